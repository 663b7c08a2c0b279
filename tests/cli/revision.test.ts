import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fluxRevision, ignorePatterns } from "../../src/cli/revision.ts";
import { readPatterns } from "../../src/cli/sourceignore.ts";

// Expected digests computed outside this code, e.g. `printf 'a.yaml 0cc1...\n' | sha256sum`.
describe("fluxRevision (source-controller's Bucket revision)", () => {
    it("is sha256 of the empty string for an empty bucket", () => {
        assert.equal(fluxRevision([], []), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    });

    it("hashes sorted 'key etag' lines, skipping directory keys and the root .sourceignore", () => {
        const revision = fluxRevision(
            [
                { key: "b/c.yaml", etag: "92eb5ffee6ae2fec3ad71c777531578f-2" },
                { key: "b/", etag: "d41d8cd98f00b204e9800998ecf8427e" },
                { key: ".sourceignore", etag: "ffff" },
                { key: "a.yaml", etag: "0cc175b9c0f1b6a831c399e269772661" },
            ],
            [],
        );
        assert.equal(revision, "sha256:c805f1cd1b115e6880110cc5031c6244e749e0f1ef2feca78fe4a40017db0f11");
    });

    it("keeps full keys under a prefix, including a .sourceignore that is not at the root", () => {
        const revision = fluxRevision(
            [
                { key: "envs/prod/app.yaml", etag: "x2" },
                { key: "envs/prod/.sourceignore", etag: "x1" },
            ],
            [],
        );
        assert.equal(revision, "sha256:6d9051f8367aca552454f730347991c222e607b14b79f345b0758b94f814e9a4");
    });

    it("sorts by UTF-8 bytes like Go, not by UTF-16 code units", () => {
        const revision = fluxRevision(
            [
                { key: "\u{1F600}.yaml", etag: "5" },
                { key: "z.yaml", etag: "3" },
                { key: "\uFFFD.yaml", etag: "4" },
                { key: "a.yaml", etag: "2" },
                { key: "Z.yaml", etag: "1" },
            ],
            [],
        );
        assert.equal(revision, "sha256:94d37eca90f38e076251b3704087ee421ae1a4c001cd8c463eb5b35d16499a20");
    });

    it("leaves out ignored keys, with spec.ignore after (and over) the .sourceignore patterns", () => {
        const objects = [
            { key: "a.yaml", etag: "0cc175b9c0f1b6a831c399e269772661" },
            { key: "b/c.yaml", etag: "92eb5ffee6ae2fec3ad71c777531578f-2" },
            { key: "docs/readme.md", etag: "1" },
            { key: "b/skip.yaml", etag: "2" },
        ];
        const patterns = ignorePatterns(Buffer.from("# docs\n*.md\nb/*\n"), "!b/c.yaml");
        assert.deepEqual(patterns, ["*.md", "b/*", "!b/c.yaml", ".bucketops-lock", ".bucketops-release"]); // bucketops' own names end every list, as in the flux stack's spec.ignore
        assert.equal(
            fluxRevision(objects, patterns),
            "sha256:c805f1cd1b115e6880110cc5031c6244e749e0f1ef2feca78fe4a40017db0f11",
        );
    });
});

describe("readPatterns (sourceignore.ReadPatterns)", () => {
    it("reads patterns like sourceignore.ReadPatterns: drops comments, blank lines and CRs only", () => {
        assert.deepEqual(readPatterns("# c\r\n*.md\r\n\n   \n  lead\ntrail  \n\\#hash\n"), [
            "*.md",
            "  lead",
            "trail  ",
            "\\#hash",
        ]);
    });
});
