import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../src/cli/main.ts";
import { bucketops, printedRevision } from "./helpers/cli.ts";
import { apart, Moto } from "../support/moto.ts";
import { configMap, manifestTree, writeTree } from "../support/trees.ts";

// moto_server stands for S3: listings with ETags (the MD5 of single-part objects) and versioned reads.
describe("bucketops diff (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await moto.createBucket("diffs");
    });
    after(() => moto?.stop());

    it("shows what a push would change as a git-style unified diff per key, and exits 1; 0 when equal", async () => {
        const dir = writeTree(manifestTree(["a", "b"], "v1"));
        assert.equal((await bucketops("push", dir, "s3://diffs/tree", ...endpoint)).code, 0);
        const same = await bucketops("diff", dir, "s3://diffs/tree", ...endpoint);
        assert.deepEqual([same.code, same.out, same.err], [0, "", ""]);

        writeFileSync(path.join(dir, "a.yaml"), configMap("a", "a-v2"));
        rmSync(path.join(dir, "b.yaml"));
        writeFileSync(path.join(dir, "c.yaml"), configMap("c", "c-v1"));
        const changed = await bucketops("diff", dir, "s3://diffs/tree", ...endpoint);
        assert.equal(changed.code, 1, changed.err);
        assert.equal(
            changed.out,
            [
                "diff a/a.yaml b/a.yaml",
                "--- a/a.yaml",
                "+++ b/a.yaml",
                "@@ -4,4 +4,4 @@",
                "   name: a",
                "   namespace: default",
                " data:",
                '-  value: "a-v1"',
                '+  value: "a-v2"',
                "diff a/b.yaml b/b.yaml",
                "--- a/b.yaml",
                "+++ /dev/null",
                "@@ -1,7 +0,0 @@",
                ...configMap("b", "b-v1").trimEnd().split("\n").map((line) => `-${line}`),
                "diff a/c.yaml b/c.yaml",
                "--- /dev/null",
                "+++ b/c.yaml",
                "@@ -0,0 +1,7 @@",
                ...configMap("c", "c-v1").trimEnd().split("\n").map((line) => `+${line}`),
            ].join("\n"),
        );
        const written = (await moto.versions("diffs", "tree/")).filter((version) => !/\.bucketops-(lock|release) /.test(version));
        assert.equal(written.length, 3, "diff wrote nothing: the first push's three objects only");
    });

    it("--rendered diffs what kustomize builds from each entry point of both sides", async () => {
        const tree = manifestTree(["a"], "v1");
        const dir = writeTree({ ...tree, "kustomization.yaml": `${tree["kustomization.yaml"]}namespace: apps\n` });
        assert.equal((await bucketops("push", dir, "s3://diffs/rendered", ...endpoint)).code, 0);
        writeFileSync(path.join(dir, "kustomization.yaml"), `${tree["kustomization.yaml"]}namespace: shop\n`);
        const run = await bucketops("diff", dir, "s3://diffs/rendered", ...endpoint, "--rendered");
        assert.equal(run.code, 1, run.err);
        assert.match(run.out, /^diff a\/\. \(kustomize build\) b\/\. \(kustomize build\)$/m);
        assert.match(run.out, /^- {2}namespace: apps\n\+ {2}namespace: shop$/m);
        assert.doesNotMatch(run.out, /kustomization\.yaml/, "the builds are compared, not the files");
    });

    it("--from and --to diff two states of the history; errors exit 2, as flux diff's do", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        const first = printedRevision(await apart(() => bucketops("push", dir, "s3://diffs/states", ...endpoint)));
        writeFileSync(path.join(dir, "a.yaml"), configMap("a", "a-v2"));
        const second = printedRevision(await apart(() => bucketops("push", dir, "s3://diffs/states", ...endpoint)));
        const run = await bucketops("diff", "s3://diffs/states", "--from", first, "--to", second, ...endpoint);
        assert.equal(run.code, 1, run.err);
        assert.match(run.out, /^-  value: "a-v1"\n\+  value: "a-v2"$/m);
        assert.equal((await bucketops("diff", "s3://diffs/states", "--from", second, "--to", second, ...endpoint)).code, 0);

        const bad = await bucketops("diff", "s3://diffs/states", "--from", "yesterday", "--to", second, ...endpoint);
        assert.deepEqual([bad.code, bad.err], [2, "bucketops: --from 'yesterday' is neither a release number, a revision (sha256:<hex>, at least 7 hex digits) nor a time (ISO 8601, e.g. 2026-11-23T15:04:05Z)"]);
        const missing = await bucketops("diff", dir, "s3://no-such-bucket-here/x", ...endpoint);
        assert.equal(missing.code, 2, missing.err);
        const usage = await bucketops("diff", "s3://diffs/states", ...endpoint);
        assert.deepEqual([usage.code, usage.err], [2, "bucketops: diff takes <dir> <url>, <url> --from <release|revision|time> --to <release|revision|time>, or two environments' <url> <url>"]);
    });

    it("colours the diff on a terminal, and prints it plain otherwise", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        assert.equal((await bucketops("push", dir, "s3://diffs/colour", ...endpoint)).code, 0);
        writeFileSync(path.join(dir, "a.yaml"), configMap("a", "a-v2"));
        const lines: string[] = [];
        const code = await main(["diff", dir, "s3://diffs/colour", ...endpoint], { out: (line) => lines.push(line), err: () => undefined, color: true });
        assert.equal(code, 1);
        assert.ok(lines.includes('\x1b[31m-  value: "a-v1"\x1b[0m'), lines.join("\n"));
        assert.ok(lines.includes('\x1b[32m+  value: "a-v2"\x1b[0m'));
        assert.ok(lines.includes("\x1b[1mdiff a/a.yaml b/a.yaml\x1b[0m"));
    });
});
