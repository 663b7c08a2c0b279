import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bucketops, md5, printedRevision, revisionOf, sha256, states } from "./helpers/cli.ts";
import { apart, Moto } from "../support/moto.ts";
import { configMap, gitRepository, manifestTree, prefixed, writeTree } from "../support/trees.ts";

// moto_server stands for S3; the record is a new version of one key, as S3 keeps versions of any key.
describe("release records: who pushed what and why, in history (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await moto.createBucket("releases");
    });
    after(() => moto?.stop());

    it("records the identity, the commit and its subject, the keys changed; Flux's revision does not see it", async () => {
        const tree = manifestTree(["a", "b"], "v1");
        const { dir, commit } = gitRepository(tree, "Add a and b");
        const pushed = await apart(() => bucketops("push", dir, "s3://releases/app", ...endpoint));
        assert.equal(pushed.code, 0, pushed.err);
        assert.equal(printedRevision(pushed), revisionOf(prefixed("app/", tree)), "the record is not in the revision");
        assert.equal((await bucketops("revision", "s3://releases/app", ...endpoint)).out, revisionOf(prefixed("app/", tree)));

        const record = JSON.parse((await moto.contents("releases", "app/", true))["app/.bucketops-release"]);
        // The manifest: every object the release left, with the version id S3 gave it, bytewise by key.
        const versions = (await moto.versions("releases", "app/")).map((line) => line.split(" "));
        assert.deepEqual(
            record.objects,
            Object.keys(prefixed("app/", tree)).sort().map((key) => {
                const content = prefixed("app/", tree)[key];
                return [key, versions.find(([k]) => k === key)![1], md5(content), Buffer.byteLength(content), md5(content)];
            }),
        );
        assert.deepEqual(
            { ...record, id: typeof record.id, objects: typeof record.objects, time: typeof record.time, user: typeof record.user, bucketops: typeof record.bucketops, digest: typeof record.digest },
            {
                format: 2,
                number: 1,
                id: "string",
                objects: "object",
                digest: "string",
                replaced: { revision: sha256("") },
                time: "string",
                command: "push",
                revision: revisionOf(prefixed("app/", tree)),
                identity: `access key ${process.env.AWS_ACCESS_KEY_ID ?? "testing"}`,
                user: "string",
                git: { commit, branch: "main", remote: "https://git.example.org/acme/fleet.git", dirty: false, author: "Ada Lovelace <ada@example.org>", subject: "Add a and b" },
                message: "Add a and b",
                bucketops: "string",
                added: ["app/a.yaml", "app/b.yaml", "app/kustomization.yaml"],
                modified: [],
                removed: [],
            },
        );

        // Uncommitted changes and -m; then a state another tool wrote, which has no record.
        writeFileSync(path.join(dir, "a.yaml"), configMap("a", "a-v2"));
        assert.equal((await apart(() => bucketops("push", dir, "s3://releases/app", ...endpoint, "-m", "hotfix: a-v2"))).code, 0);
        await apart(() => moto.put("releases", "app/c.yaml", configMap("c", "c-v1")));
        const rolled = await apart(() => bucketops("rollback", "s3://releases/app", ...endpoint, "--to", revisionOf(prefixed("app/", tree))));
        assert.equal(rolled.code, 0, rolled.err);

        const history = states(await bucketops("history", "s3://releases/app", ...endpoint, "--json"));
        assert.deepEqual(
            history.map(({ release }) => release && [release.command, release.message, release.git?.dirty]),
            [["push", "Add a and b", false], ["push", "hotfix: a-v2", true], undefined, ["rollback", `rollback to release 1 of ${history[0].time} (${history[0].revision})`, undefined]],
        );
        // Releases are numbered; the change another tool made between them is shown as such, with no number.
        assert.deepEqual(history.map((s) => [s.number, s.source, s.external]), [[1, "release", false], [2, "release", false], [undefined, "inferred", true], [3, "release", false]]);
        assert.equal(history[3].release?.replaced?.number, undefined, "release 2 was not what the rollback replaced: c.yaml came after it");
        assert.deepEqual(history.map(({ release }) => release?.revision), [history[0].revision, history[1].revision, undefined, history[3].revision]);

        const text = (await bucketops("history", "s3://releases/app", ...endpoint)).out.split("\n");
        const by = `by access key ${process.env.AWS_ACCESS_KEY_ID ?? "testing"} \\(\\S+@\\S+\\)`;
        assert.match(text[1], new RegExp(`^ {4}push ${by} for Ada Lovelace <ada@example.org>, commit ${commit.slice(0, 12)} \\(main\\): Add a and b$`));
        assert.ok(text.some((line) => new RegExp(`^ {4}push ${by} .*with uncommitted changes: hotfix: a-v2$`).test(line)), text.join("\n"));
        assert.ok(text.some((line) => new RegExp(`^ {4}rollback from release 1 ${by}: rollback to release 1 of `).test(line)), text.join("\n"));
        assert.ok(text.some((line) => /^external {2}\S+ {2}sha256:[0-9a-f]{64} {2}4 object\(s\)$/.test(line)), text.join("\n"));
        assert.ok(text.includes("    external change: written by another tool, or by a writer that stopped before its release record"), text.join("\n"));
    });

    it("a tree outside a repository is recorded without git facts", async () => {
        const pushed = await bucketops("push", writeTree(manifestTree(["a"], "v1")), "s3://releases/plain", ...endpoint);
        assert.equal(pushed.code, 0, pushed.err);
        const record = JSON.parse((await moto.contents("releases", "plain/", true))["plain/.bucketops-release"]);
        assert.equal(record.git, undefined);
        assert.equal(record.message, undefined);
        assert.match(pushed.out, /^release 1: push by access key \S+ \(\S+\)$/m);
    });
});
