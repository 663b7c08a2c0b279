import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DeleteObjectsCommand } from "@aws-sdk/client-s3";
import { bucketops, md5, printedRevision, revisionOf, sha256, states } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";
import { setEnv } from "../support/env.ts";
import { apart, Moto } from "../support/moto.ts";

describe("bucketops history and rollback against moto_server", () => {
    let moto: Moto;
    let endpoint: string[];
    const url = "s3://hist/app";
    const v1 = manifestTree(["a", "b"], "v1");
    const v2 = manifestTree(["a", "c"], "v2");
    const v3 = { ...v2, "c.yaml": v2["c.yaml"].replace("c-v2", "c-v3") };
    const under = (tree: Record<string, string>) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [`app/${k}`, v]));
    // The bucket root of "rooted" holds a .sourceignore that first ignores *.md, then nothing.
    const r1 = { ...manifestTree(["a"], "v1"), ".sourceignore": "# docs\n*.md\n", "README.md": "hello" };
    const r2 = { ...r1, ".sourceignore": "# nothing ignored\n" };
    const pushed: string[] = [];
    const rootedPushed: string[] = [];
    // An object uploaded in two parts (S3's minimum part size is 5 MiB), later replaced by a plain one.
    const parts = [Buffer.alloc(5 * 1024 * 1024, "x"), Buffer.from("tail")];
    const multipartWrites = [
        () => moto.putMultipart("multipart", "app/big.bin", parts),
        () => moto.put("multipart", "app/big.bin", "small now"),
    ];

    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await Promise.all(["hist", "rooted", "multipart"].map((name) => moto.createBucket(name)));
        await moto.createBucket("unversioned", false);
        // Three pushes to hist/app and two to the root of rooted, each pair in the same second.
        const dir = writeTree({});
        const rootedDir = writeTree({});
        for (const [i, tree] of [v1, v2, v3].entries()) {
            writeTree(tree, dir);
            const rooted = [r1, r2][i];
            if (rooted) writeTree(rooted, rootedDir);
            const [run, rootedRun] = await apart(() =>
                Promise.all([
                    bucketops("push", dir, url, ...endpoint),
                    rooted ? bucketops("push", rootedDir, "s3://rooted", ...endpoint) : undefined,
                    multipartWrites[i]?.(),
                ]),
            );
            assert.equal(run.code, 0, run.err);
            pushed.push(printedRevision(run));
            if (rootedRun) {
                assert.equal(rootedRun.code, 0, rootedRun.err);
                rootedPushed.push(printedRevision(rootedRun));
            }
        }
    });
    after(() => moto?.stop());

    it("reconstructs each pushed state with its revision and changed keys", async () => {
        assert.deepEqual(pushed, [revisionOf(under(v1)), revisionOf(under(v2)), revisionOf(under(v3))]);
        const history = states(await bucketops("history", url, ...endpoint, "--json"));
        assert.deepEqual(history.map((s) => s.revision), pushed);
        assert.deepEqual(history[1], {
            ...history[1],
            objects: 3,
            added: ["app/c.yaml"],
            modified: ["app/a.yaml", "app/kustomization.yaml"],
            removed: ["app/b.yaml"],
            incomplete: false,
        });
        assert.deepEqual(history[2].modified, ["app/c.yaml"]);

        const text = await bucketops("history", url, ...endpoint);
        assert.match(text.out, new RegExp(`${pushed[2]}  3 object\\(s\\)  \\(current\\)`));
        assert.match(text.out, /^ {4}- app\/b\.yaml$/m);
    });

    it("rolls back to a past revision exactly, and the rollback itself can be undone by time", async () => {
        const history = states(await bucketops("history", url, ...endpoint, "--json"));
        const dry = await bucketops("rollback", url, ...endpoint, "--to", pushed[0], "--dry-run");
        assert.equal(dry.code, 0, dry.err);
        assert.match(dry.out, /plan: 3 to restore, 1 to delete, 0 unchanged/);
        assert.deepEqual(await moto.contents("hist", "app/"), under(v3));

        const back = await apart(() => bucketops("rollback", url, ...endpoint, "--to", pushed[0]));
        assert.equal(back.code, 0, back.err);
        assert.deepEqual(await moto.contents("hist", "app/"), under(v1));
        assert.match(back.out, new RegExp(`rolled back: Flux revision ${pushed[0]}`));
        assert.equal((await bucketops("revision", url + "/", ...endpoint)).out, pushed[0]);
        // The undo names the release the rollback replaced (release 3), not the rollback's own state.
        assert.match(back.out, /^release 4: rollback from release 1 by /m);
        assert.match(back.out, /undo with: bucketops rollback s3:\/\/hist\/app --to 3$/m);

        const after = states(await bucketops("history", url, ...endpoint, "--json"));
        assert.deepEqual(after.map((s) => s.revision), [...pushed, pushed[0]], "the rollback is a new state");
        assert.deepEqual(after.map((s) => [s.number, s.source]), [[1, "release"], [2, "release"], [3, "release"], [4, "release"]]);
        // Releases 1 and 4 have one revision and the same content: --to <revision> is not ambiguous, it means that content.

        // By time: the state that was current half a second after the v2 push.
        const v2Time = new Date(Date.parse(history[1].time) + 500).toISOString();
        const undo = await apart(() => bucketops("rollback", url, ...endpoint, "--to", v2Time));
        assert.equal(undo.code, 0, undo.err);
        assert.deepEqual(await moto.contents("hist", "app/"), under(v2));
        assert.match(undo.out, new RegExp(`rolled back: Flux revision ${pushed[1]}`));
    });

    it("takes the root .sourceignore as it was at each state", async () => {
        const isIgnoreFile = (key: string) => key === ".sourceignore";
        assert.deepEqual(rootedPushed, [
            revisionOf(r1, (key) => isIgnoreFile(key) || key.endsWith(".md")),
            revisionOf(r2, isIgnoreFile),
        ]);
        const history = states(await bucketops("history", "s3://rooted", ...endpoint, "--json"));
        assert.deepEqual(history.map((s) => s.revision), rootedPushed);
        assert.deepEqual(history[1].modified, [".sourceignore"]);
    });

    it("restores an object uploaded in parts with its multipart ETag, so the revision comes back", async () => {
        const md5s = Buffer.concat(parts.map((part) => createHash("md5").update(part).digest()));
        const multipartEtag = `${createHash("md5").update(md5s).digest("hex")}-2`;
        const original = sha256(`app/big.bin ${multipartEtag}\n`);
        const history = states(await bucketops("history", "s3://multipart/app", ...endpoint, "--json"));
        assert.deepEqual(history.map((s) => s.revision), [original, sha256(`app/big.bin ${md5("small now")}\n`)]);

        const run = await bucketops("rollback", "s3://multipart/app", ...endpoint, "--to", original.slice(0, 19));
        assert.equal(run.code, 0, run.err);
        assert.match(run.out, new RegExp(`rolled back: Flux revision ${original}`));
        const body = (await moto.contents("multipart", "app/"))["app/big.bin"];
        assert.equal(body, Buffer.concat(parts).toString());
    });

    it("starts a prefix's history at its first write, and refuses an emptying rollback without --allow-empty", async () => {
        // What the infra stack does for environments: the root .sourceignore is written before the first push.
        await moto.createBucket("phantom");
        await apart(() => moto.put("phantom", ".sourceignore", "*.md\n"));
        await apart(() => moto.put("phantom", "other/x.yaml", "another environment's key"));
        const tree = manifestTree(["a"], "v1");
        const first = await apart(() => bucketops("push", writeTree(tree), "s3://phantom/dev", ...endpoint));
        assert.equal(first.code, 0, first.err);
        const history = states(await bucketops("history", "s3://phantom/dev", ...endpoint, "--json"));
        assert.deepEqual(history.map((s) => [s.revision, s.objects]), [[printedRevision(first), 2]]);

        // Time before the first push: no state of the prefix then (it used to be a phantom state of 0 objects).
        const before = new Date(Date.parse(history[0].time) - 1500).toISOString();
        const early = await bucketops("rollback", "s3://phantom/dev", ...endpoint, "--to", before);
        assert.equal(early.code, 2);
        assert.match(early.err, new RegExp(`^bucketops: no state at or before ${before}; the oldest is ${history[0].time}`));

        // A state that really is empty (everything under the prefix deleted) is refused unless asked for.
        await apart(() => moto.s3.send(new DeleteObjectsCommand({ Bucket: "phantom", Delete: { Objects: Object.keys(tree).map((k) => ({ Key: `dev/${k}` })) } })));
        const second = await apart(() => bucketops("push", writeTree(tree), "s3://phantom/dev", ...endpoint));
        assert.equal(second.code, 0, second.err);
        const [, empty] = states(await bucketops("history", "s3://phantom/dev", ...endpoint, "--json"));
        assert.equal(empty.objects, 0);
        const refused = await bucketops("rollback", "s3://phantom/dev", ...endpoint, "--to", empty.revision);
        assert.equal(refused.code, 2);
        assert.equal(
            refused.err,
            `bucketops: the state of ${empty.time} has nothing Flux would apply under 'dev/': rolling back to it would delete every object ` +
                "Flux reads there, and Flux (prune: true) every workload it applied. Nothing was changed; pass --allow-empty if that is what you want",
        );
        assert.deepEqual(Object.keys(await moto.contents("phantom", "dev/")).sort(), ["dev/a.yaml", "dev/kustomization.yaml"]);
        const allowed = await apart(() => bucketops("rollback", "s3://phantom/dev", ...endpoint, "--to", empty.revision, "--allow-empty"));
        assert.equal(allowed.code, 0, allowed.err);
        assert.deepEqual(await moto.contents("phantom", "dev/"), {});
        assert.deepEqual(Object.keys(await moto.contents("phantom")).sort(), [".sourceignore", "other/x.yaml"]);
    });

    it("never empties what Flux sees at the bucket root: the infra stack's .sourceignore or ignored files are no target", async () => {
        // The reported data loss: the infra stack writes the root .sourceignore before the first push; a rollback to
        // "the state before the first push" (the revision of nothing) deleted every key and exited 0.
        const nothing = sha256("");
        await moto.createBucket("rootignore");
        await apart(() => moto.put("rootignore", ".sourceignore", "# the infra stack's\n*.md\n"));
        const tree = { ...manifestTree(["a", "b"], "v1"), "README.md": "docs Flux ignores" };
        const first = await apart(() => bucketops("push", writeTree(tree), "s3://rootignore", ...endpoint));
        assert.equal(first.code, 0, first.err);
        const keys = Object.keys(await moto.contents("rootignore")).sort();
        const history = states(await bucketops("history", "s3://rootignore", ...endpoint, "--json"));
        assert.deepEqual(history.map((s) => [s.revision, s.indexed]), [[printedRevision(first), 3]], "history starts at the first push");
        const early = await bucketops("rollback", "s3://rootignore", ...endpoint, "--to", nothing);
        assert.equal(early.code, 2, early.out);
        assert.match(early.err, new RegExp(`--to ${nothing}: no past state has that revision`));
        assert.deepEqual(Object.keys(await moto.contents("rootignore")).sort(), keys);

        // A later state holding only what Flux ignores (README.md, the .sourceignore) is the revision of nothing too.
        await apart(() => moto.s3.send(new DeleteObjectsCommand({ Bucket: "rootignore", Delete: { Objects: ["a.yaml", "b.yaml", "kustomization.yaml"].map((Key) => ({ Key })) } })));
        const second = await apart(() => bucketops("push", writeTree(tree), "s3://rootignore", ...endpoint));
        assert.equal(second.code, 0, second.err);
        const [, ignoredOnly] = states(await bucketops("history", "s3://rootignore", ...endpoint, "--json"));
        assert.deepEqual([ignoredOnly.revision, ignoredOnly.objects, ignoredOnly.indexed], [nothing, 2, 0]);
        const refused = await bucketops("rollback", "s3://rootignore", ...endpoint, "--to", nothing);
        assert.equal(refused.code, 2);
        assert.match(refused.err, /has nothing Flux would apply at the bucket root \(only 2 object\(s\) Flux does not read: the root \.sourceignore or ignored files\): /);
        assert.deepEqual(Object.keys(await moto.contents("rootignore")).sort(), keys);
    });

    it("reads each release record from the bucket once: versions never change, so the next history takes them from the cache", async () => {
        const releaseGets = (requests: { method: string; path: string }[]) =>
            requests.filter((r) => r.method === "GET" && r.path.startsWith("/hist/app/.bucketops-release")).length;
        const cacheDir = mkdtempSync(path.join(tmpdir(), "bucketops-cache-"));
        const restore = setEnv({ BUCKETOPS_CACHE_DIR: cacheDir });
        try {
            const cold = await moto.recordRequests(() => bucketops("history", url, ...endpoint, "--json"));
            const releases = states(cold.result).filter((state) => state.release).length;
            assert.ok(releases >= 3);
            // The newest record's log holds the records before it (and their manifests' deltas): one record is read.
            assert.equal(releaseGets(cold.requests), 1, "the newest release record, whose log holds the others");
            const warm = await moto.recordRequests(() => bucketops("history", url, ...endpoint, "--json"));
            assert.equal(releaseGets(warm.requests), 0, "none read again");
            assert.equal(warm.result.out, cold.result.out);
            // A torn line (a run killed while appending) is skipped: that record is read from the bucket again.
            const [file] = readdirSync(path.join(cacheDir, "releases"));
            const lines = readFileSync(path.join(cacheDir, "releases", file), "utf8").trimEnd().split("\n");
            writeFileSync(path.join(cacheDir, "releases", file), [...lines.slice(1), lines[0].slice(0, 20)].join("\n"));
            const torn = await moto.recordRequests(() => bucketops("history", url, ...endpoint, "--json"));
            assert.equal(releaseGets(torn.requests), 1);
            assert.equal(torn.result.out, cold.result.out);
        } finally {
            restore();
            rmSync(cacheDir, { recursive: true, force: true });
        }
    });

    it("refuses history and rollback without versioning, and bad --to values", async () => {
        const endpoint = ["--endpoint", moto.endpoint];
        const off = await bucketops("history", "s3://unversioned/app", ...endpoint);
        assert.equal(off.code, 1);
        assert.match(off.err, /^bucketops: versioning is not enabled on s3:\/\/unversioned/);
        const rollbackOff = await bucketops("rollback", "s3://unversioned/app", ...endpoint, "--to", "2026-01-01T00:00:00Z");
        assert.equal(rollbackOff.code, 1);
        assert.match(rollbackOff.err, /versioning is not enabled/);

        const garbage = await bucketops("rollback", "s3://hist/app", ...endpoint, "--to", "yesterday-ish");
        assert.equal(garbage.code, 2);
        assert.match(garbage.err, /--to 'yesterday-ish' is neither a release number, a revision \(sha256:<hex>, at least 7 hex digits\) nor a time/);
        // An unknown --to is bad input (exit 2, as docs/bucketops.md says), whatever its form.
        const unknown = await bucketops("rollback", "s3://hist/app", ...endpoint, "--to", "sha256:0000000");
        assert.equal(unknown.code, 2);
        assert.match(unknown.err, /--to sha256:0000000: no past state has that revision/);
        const noRelease = await bucketops("rollback", "s3://hist/app", ...endpoint, "--to", "99");
        assert.equal(noRelease.code, 2);
        assert.match(noRelease.err, /--to 99: no release 99 under this prefix \(releases 1 to \d+\)/);
        const tooEarly = await bucketops("rollback", "s3://hist/app", ...endpoint, "--to", "2000-01-01T00:00:00Z");
        assert.equal(tooEarly.code, 2);
        assert.match(tooEarly.err, /no state at or before 2000-01-01T00:00:00Z; the oldest is /);
    });
});
