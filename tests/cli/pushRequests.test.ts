import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { LEASE_NAME, RELEASE_NAME } from "../../src/bucket/keys.ts";
import { ConcurrentChangeError } from "../../src/cli/errors.ts";
import { fluxRevision, ignorePatterns } from "../../src/cli/revision.ts";
import { S3Store } from "../../src/cli/store/s3.ts";
import { parseBucketUrl } from "../../src/cli/url.ts";
import { bucketops } from "./helpers/cli.ts";
import { setEnv } from "../support/env.ts";
import { Moto, operationOf, type LoggedRequest } from "../support/moto.ts";
import { gitRepository, manifestTree, writeTree } from "../support/trees.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/bucketops.js");

/**
 * Issue 28: the requests of an everyday push, pinned. A push of content new to this machine (an edit) takes the lease
 * at once (a create-if-absent) and lists the prefix once, under it, while the tree is validated. A push of content that
 * passed here before lists the prefix without the lease (a push that changes nothing then writes nothing); when it does
 * change something it takes the lease with a create-if-absent that its listing stands for, lists again under the lease
 * and plans from that. Either lists a third time only to delete (the check before deletes).
 * Each line names the object or the request: `LIST`, `PUT <name>`, `GET <name>`, `DELETE <name>`, `versioning`.
 */
function named(requests: LoggedRequest[]): string[] {
    return requests.map((request) => {
        const operation = operationOf(request);
        if (operation === "LIST page") return "LIST";
        if (operation === "GET bucket?versioning") return "versioning";
        if (operation === "DeleteObjects") return "DeleteObjects";
        const name = decodeURIComponent(request.path.split("?")[0]).split("/").at(-1);
        return `${request.method} ${name}${request.status === 404 || request.status === 412 ? ` (${request.status})` : ""}`;
    });
}

const count = (lines: string[], line: string) => lines.filter((l) => l === line).length;

/** Runs `body` with the validation cache in `dir` (BUCKETOPS_CACHE_DIR): another machine's, or one that cannot be written. */
async function withCacheDir<T>(dir: string, body: () => Promise<T>): Promise<T> {
    const restore = setEnv({ BUCKETOPS_CACHE_DIR: dir });
    try {
        return await body();
    } finally {
        restore();
    }
}

describe("the requests of a push (moto_server's access log)", () => {
    let moto: Moto;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("requests");
    });
    after(() => moto?.stop());

    const push = async (dir: string, url: string) => {
        const { result, requests } = await moto.recordRequests(() => bucketops("push", dir, url, "--endpoint", moto.endpoint, "--skip-build"));
        assert.equal(result.code, 0, result.err);
        return named(requests);
    };

    // The record the release follows is read under the lease while the objects are written: its place is not fixed.
    const ordered = (lines: string[]) => lines.filter((line) => line !== "GET .sourceignore (404)" && line !== "versioning" && line !== `GET ${RELEASE_NAME}`);

    it("a one-change re-push of an edit takes the lease in one request and lists the prefix once, under it", async () => {
        const v1 = manifestTree(["a", "b", "c"], "v1");
        const dir = writeTree(v1);
        await push(dir, "s3://requests/one/");

        const unchanged = await push(dir, "s3://requests/one/");
        assert.deepEqual([...unchanged].sort(), ["GET .sourceignore (404)", "LIST"], "nothing changed: one listing, nothing written, versioning not asked");

        writeTree({ ...v1, "a.yaml": manifestTree(["a"], "v2")["a.yaml"] }, dir);
        const changed = await push(dir, "s3://requests/one/");
        assert.equal(count(changed, "LIST"), 1, changed.join(", "));
        assert.deepEqual(
            ordered(changed),
            [`PUT ${LEASE_NAME}`, "LIST", "PUT a.yaml", `PUT ${RELEASE_NAME}`, `DELETE ${LEASE_NAME}`],
            "the lease before the one listing, the write after it, the record, then the lease let go",
        );
        const recordRead = changed.indexOf(`GET ${RELEASE_NAME}`);
        assert.ok(recordRead > changed.lastIndexOf("LIST") && recordRead < changed.indexOf(`PUT ${RELEASE_NAME}`), changed.join(", "));
        assert.ok(changed.indexOf("versioning") > changed.indexOf("LIST") && changed.indexOf("versioning") < changed.indexOf("PUT a.yaml"), "versioning asked once the listing shows a change");
        assert.equal(changed.length, 8);
    });

    it("at the bucket root a tree with its own .sourceignore does not read the bucket's, which it replaces", async () => {
        await moto.createBucket("root-ignore");
        const dir = writeTree({ ...manifestTree(["a"], "v1"), ".sourceignore": "*.md\n" });
        const first = await push(dir, "s3://root-ignore/");
        assert.ok(first.includes("PUT .sourceignore") && !first.some((line) => line.startsWith("GET .sourceignore")), first.join(", "));
        assert.deepEqual(await push(dir, "s3://root-ignore/"), ["LIST"]);
        // Under a prefix the bucket's is the one Flux reads: it is read as before.
        assert.deepEqual([...(await push(dir, "s3://root-ignore/app/"))].filter((line) => line.startsWith("GET .sourceignore")), ["GET .sourceignore"]);
        // A .sourceignore that Git ignores is not shipped: the bucket's counts, and the listing of the root shows there is none.
        await moto.createBucket("root-ignore-git");
        const { dir: repository } = gitRepository({ ...manifestTree(["a"], "v1"), ".gitignore": ".sourceignore\n" }, "ignored ignore file");
        writeFileSync(path.join(repository, ".sourceignore"), "*.md\n");
        const ignored = await push(repository, "s3://root-ignore-git/");
        assert.ok(!ignored.some((line) => line.includes(".sourceignore")), ignored.join(", "));
    });

    it("at the bucket root the listing tells whether the bucket has a .sourceignore: read only when listed", async () => {
        await moto.createBucket("root-listed");
        const tree = { ...manifestTree(["a"], "v1"), "notes.md": "not a manifest\n" };
        const dir = writeTree(tree);
        const first = await push(dir, "s3://root-listed/");
        assert.ok(!first.some((line) => line.includes(".sourceignore")), first.join(", "));
        assert.deepEqual(await push(dir, "s3://root-listed/"), ["LIST"], "nothing changed, no .sourceignore: the listing alone, as rclone's");
        // One written by another hand (the infra stack writes it for environments): listed, so read, applied and kept.
        await moto.s3.send(new PutObjectCommand({ Bucket: "root-listed", Key: ".sourceignore", Body: "*.md\n" }));
        const { result, requests } = await moto.recordRequests(() => bucketops("push", dir, "s3://root-listed/", "--endpoint", moto.endpoint, "--skip-build"));
        assert.equal(result.code, 0, result.err);
        assert.deepEqual(named(requests), ["LIST", "GET .sourceignore"], "read after the listing showed it");
        const md5 = (text: string) => createHash("md5").update(text).digest("hex");
        const listed = Object.entries({ ...tree, ".sourceignore": "*.md\n" }).map(([key, text]) => ({ key, etag: md5(text) }));
        // The revision printed is the one Flux computes with the bucket's pattern (notes.md left out).
        const expected = fluxRevision(listed, ignorePatterns(Buffer.from("*.md\n"), undefined));
        assert.notEqual(expected, fluxRevision(listed, ignorePatterns(undefined, undefined)), "the pattern changes the revision");
        assert.ok(result.out.includes(`Flux revision (Bucket spec.prefix ''): ${expected}`), result.out);
    });

    it("a push of content that passed here before lists without the lease, and lists again under it only to write", async () => {
        const v1 = manifestTree(["a", "b"], "v1");
        const dir = writeTree(v1);
        await push(dir, "s3://requests/known/");
        writeTree(manifestTree(["a", "b"], "v2"), dir);
        await push(dir, "s3://requests/known/");
        // Back to v1, which passed here before: the push does not expect to write, yet the bucket holds v2.
        writeTree(v1, dir);
        const other = await push(dir, "s3://requests/known/");
        const relevant = ordered(other);
        assert.deepEqual(relevant.slice(0, 3), ["LIST", `PUT ${LEASE_NAME}`, "LIST"], other.join(", "));
        assert.deepEqual(relevant.slice(3, 5).sort(), ["PUT a.yaml", "PUT b.yaml"], other.join(", ")); // uploads run at once
        assert.deepEqual(relevant.slice(5), [`PUT ${RELEASE_NAME}`, `DELETE ${LEASE_NAME}`], other.join(", "));
        assert.equal(count(other, "LIST"), 2, other.join(", "));
        assert.ok(other.indexOf("versioning") > 0 && other.indexOf("versioning") < other.indexOf(`PUT ${LEASE_NAME}`), "versioning asked once the listing shows a change, before the lease");
    });

    it("a re-push that deletes lists a second time, after the writes and before the deletes", async () => {
        const dir = writeTree(manifestTree(["a", "b", "c"], "v1"));
        await push(dir, "s3://requests/prune/");
        const next = manifestTree(["a", "b"], "v2");
        const pruned = writeTree(next);
        const changed = await push(pruned, "s3://requests/prune/");
        const relevant = ordered(changed);
        assert.deepEqual(relevant.slice(0, 2), [`PUT ${LEASE_NAME}`, "LIST"]);
        assert.deepEqual(relevant.slice(-4), ["LIST", "DELETE c.yaml", `PUT ${RELEASE_NAME}`, `DELETE ${LEASE_NAME}`]);
        assert.equal(count(changed, "LIST"), 2, changed.join(", "));
    });

    it("a write conditional on an object that was deleted since its listing is a concurrent change (exit 4), not a failure", async () => {
        // S3 answers If-Match on a key with no current version 404 NoSuchKey (moto does as S3), not 412. A writer that
        // waited for the lease meets it when the holder lets go between the waiter's read and its takeover.
        await moto.put("requests", "gone/a.yaml", "a");
        const store = new S3Store(parseBucketUrl("s3://requests/gone/"), { endpoint: moto.endpoint });
        try {
            const [listed] = await store.list("gone/a.yaml");
            await moto.s3.send(new DeleteObjectCommand({ Bucket: "requests", Key: "gone/a.yaml" }));
            await assert.rejects(
                store.put("gone/a.yaml", Buffer.from("ours"), { md5: createHash("md5").update("ours").digest(), contentType: "application/yaml", expected: listed }),
                (error: unknown) => error instanceof ConcurrentChangeError && /concurrent change detected: gone\/a\.yaml/.test(error.message),
            );
        } finally {
            store.close();
        }
    });

    it("a lease found in the listing is read before it is taken over, as before", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        await push(dir, "s3://requests/held/");
        // An interrupted writer's lease (it let go part-way): the next push takes it over.
        await moto.put("requests", `held/${LEASE_NAME}`, JSON.stringify({ id: "x", holder: "ada@elsewhere (pid 1)", host: "elsewhere", pid: 1, command: "push", acquired: new Date().toISOString(), expires: new Date(Date.now() + 60_000).toISOString(), state: "interrupted" }));
        writeTree(manifestTree(["a"], "v2"), dir);
        const changed = await push(dir, "s3://requests/held/");
        const relevant = ordered(changed);
        assert.equal(relevant[0], `PUT ${LEASE_NAME} (412)`, `the edit's create-if-absent is refused: a lease is there (${changed.join(", ")})`);
        const take = relevant.indexOf(`PUT ${LEASE_NAME}`);
        assert.ok(take > 0 && relevant.slice(0, take).includes(`GET ${LEASE_NAME}`), `the lease is read before it is taken over: ${changed.join(", ")}`);
        assert.deepEqual(relevant.slice(take + 1, take + 3), ["LIST", "PUT a.yaml"], "then the listing under the lease, then the write");
    });
});

describe("S3Store.list: the pages of a long listing asked for at once, from the keys the prefix is likely to hold (moto_server)", () => {
    // moto lists as S3 does (ListObjectsV2: keys in UTF-8 byte order, 1,000 a page, StartAfter exclusive); the reference
    // is the plain listing, one page after the other with continuation tokens.
    let moto: Moto;
    const prefix = "ranges/";
    // Keys past U+FFFF sort after U+FFFD in UTF-8 (and for S3) but before it in JavaScript's string order.
    const odd = [`${prefix}app-010/\u{1F600}.yaml`, `${prefix}app-010/\uFFFD.yaml`, `${prefix}app-010/é.yaml`, `${prefix}app-019/z.yaml`];
    let reference: string[];
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("ranges");
        await moto.fill("ranges", prefix, 2_100, (i) => `v${i}`);
        for (const key of odd) await moto.put("ranges", key, "odd");
        reference = Object.keys(await moto.md5s("ranges", prefix));
        assert.equal(reference.length, 2_104);
    });
    after(() => moto?.stop());

    const listed = async (likely: string[] | undefined) => {
        const store = new S3Store(parseBucketUrl(`s3://ranges/${prefix}`), { endpoint: moto.endpoint });
        const { result, requests } = await moto.recordRequests(() => store.list(prefix, likely));
        return { keys: result.map((entry) => entry.key), pages: requests.filter((request) => operationOf(request) === "LIST page").length, store };
    };

    it("lists every key exactly once, in the bucket's order, whatever keys were expected", async () => {
        const cases: Record<string, string[] | undefined> = {
            none: undefined,
            exact: [...reference],
            "in JavaScript's order": [...reference].sort(),
            "missing 300 the bucket has": reference.filter((_, i) => i % 7 !== 0),
            "with 500 the bucket does not have": [...reference, ...Array.from({ length: 500 }, (_, i) => `${prefix}app-005/new-${i}.yaml`)],
            "of another prefix": reference.map((key) => key.replace(prefix, "other/")),
            "only the last ones": reference.slice(-1_100),
        };
        for (const [name, likely] of Object.entries(cases)) {
            const { keys } = await listed(likely);
            assert.deepEqual(keys, reference, name);
        }
    });

    it("asks for the 3 pages of 2,104 expected keys at once, and lists again from its own last listing", async () => {
        const { pages, store } = await listed([...reference]);
        assert.equal(pages, 3);
        const { result, requests } = await moto.recordRequests(() => store.list(prefix));
        assert.deepEqual(result.map((entry) => entry.key), reference);
        assert.equal(requests.filter((request) => operationOf(request) === "LIST page").length, 3);
        // A prefix's first page holds 20 keys more than its range expects (here: bucketops' records) without another page.
        await moto.put("ranges", `${prefix}.bucketops-release`, "{}");
        const { keys, pages: again } = await listed([...reference]);
        assert.deepEqual(keys, [`${prefix}.bucketops-release`, ...reference]);
        assert.equal(again, 3);
    });
});

describe("the lease a push of an edit takes before its tree is validated (moto_server)", () => {
    let moto: Moto;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("early");
    });
    after(() => moto?.stop());

    const run = async (...args: string[]) => {
        const { result, requests } = await moto.recordRequests(() => bucketops("push", ...args, "--endpoint", moto.endpoint, "--skip-build"));
        return { result, lines: named(requests).filter((line) => line !== "GET .sourceignore (404)") };
    };

    it("a refused edit lets go of the lease and writes nothing else: no object, no release", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        assert.equal((await run(dir, "s3://early/refused/")).result.code, 0);
        const before = await moto.versions("early", "refused/");
        writeTree({ "a.yaml": manifestTree(["a"], "v1")["a.yaml"].replace(/value: .*/, "value: 5") }, dir);
        const { result, lines } = await run(dir, "s3://early/refused/");
        assert.equal(result.code, 1);
        assert.match(result.err, /is not a valid manifest tree, nothing was uploaded:\n1 manifest problem:\n.*a\.yaml: ConfigMap\/a: data\.value: must be string \(got 5\)/);
        // (The versioning setting is asked for as soon as the listing shows a change, while the tree is validated.)
        assert.deepEqual(lines.filter((line) => line !== "versioning"), [`PUT ${LEASE_NAME}`, "LIST", `DELETE ${LEASE_NAME}`], "the lease, the listing under it, the lease let go");
        // What the versioned bucket keeps of it: the lease's version and its delete marker, as after every push that writes.
        const added = (await moto.versions("early", "refused/")).filter((line) => !before.includes(line));
        assert.equal(added.length, 2, added.join("\n"));
        assert.ok(added.every((line) => line.startsWith(`refused/${LEASE_NAME} `)) && added.some((line) => line.endsWith(" delete-marker")), added.join("\n"));
    });

    it("an edit the bucket already has (pushed from another machine) takes and lets go of the lease, and writes nothing else", async () => {
        const dir = writeTree(manifestTree(["a", "b"], "elsewhere"));
        assert.equal((await run(dir, "s3://early/same/")).result.code, 0);
        // Another machine: its validation cache has never seen this content.
        await withCacheDir(mkdtempSync(path.join(tmpdir(), "bucketops-cache-")), async () => {
            const { result, lines } = await run(dir, "s3://early/same/");
            assert.equal(result.code, 0, result.err);
            assert.match(result.out, /^uploaded 0, deleted 0, unchanged 3$/m);
            assert.deepEqual(lines, [`PUT ${LEASE_NAME}`, "LIST", `DELETE ${LEASE_NAME}`]);
        });
    });

    it("with a cache directory that cannot be written (a read-only home) no content is new: an unchanged re-push writes nothing", async () => {
        const dir = writeTree(manifestTree(["a", "b"], "unwritable-v1"));
        assert.equal((await run(dir, "s3://early/unwritable/")).result.code, 0);
        // Stands for a read-only home: these tests run as root, whom file modes do not stop, so the cache directory is
        // put under a regular file, where no one can make a folder (ENOTDIR, as EROFS or EACCES for a user).
        const file = path.join(mkdtempSync(path.join(tmpdir(), "bucketops-cache-")), "a-file");
        writeFileSync(file, "");
        await withCacheDir(path.join(file, "bucketops"), async () => {
            const unchanged = await run(dir, "s3://early/unwritable/");
            assert.equal(unchanged.result.code, 0, unchanged.result.err);
            assert.match(unchanged.result.out, /^validated 3 file\(s\) in \S+$/m, "validated again: the cache remembers nothing");
            assert.deepEqual(unchanged.lines, ["LIST"], "no lease taken and let go: a versioned bucket keeps nothing of it");
            // An edit still takes the lease to write, and plans from a listing under it.
            writeTree(manifestTree(["a", "b"], "unwritable-v2"), dir);
            const edited = await run(dir, "s3://early/unwritable/");
            assert.equal(edited.result.code, 0, edited.result.err);
            const relevant = edited.lines.filter((line) => line !== "versioning" && line !== `GET ${RELEASE_NAME}`);
            assert.deepEqual(relevant.slice(0, 3), ["LIST", `PUT ${LEASE_NAME}`, "LIST"], edited.lines.join(", "));
            assert.deepEqual(relevant.slice(-2), [`PUT ${RELEASE_NAME}`, `DELETE ${LEASE_NAME}`], edited.lines.join(", "));
        });
    });

    it("with --allow-plain-secrets too: an edit takes the lease first, content validated here before does not", async () => {
        const dir = writeTree(manifestTree(["a"], "plain-v1"));
        assert.equal((await run(dir, "s3://early/plain/", "--allow-plain-secrets")).result.code, 0);
        const unchanged = await run(dir, "s3://early/plain/", "--allow-plain-secrets");
        assert.deepEqual(unchanged.lines, ["LIST"]);
        writeTree(manifestTree(["a"], "plain-v2"), dir);
        const edited = await run(dir, "s3://early/plain/", "--allow-plain-secrets");
        assert.equal(edited.result.code, 0, edited.result.err);
        assert.deepEqual(
            edited.lines.filter((line) => line !== "versioning" && line !== `GET ${RELEASE_NAME}`),
            [`PUT ${LEASE_NAME}`, "LIST", "PUT a.yaml", `PUT ${RELEASE_NAME}`, `DELETE ${LEASE_NAME}`],
        );
    });

    it("a dry run of an edit takes no lease", async () => {
        const dir = writeTree(manifestTree(["a"], "dry"));
        const { result, lines } = await run(dir, "s3://early/dry/", "--dry-run");
        assert.equal(result.code, 0, result.err);
        assert.deepEqual(lines, ["LIST"]);
    });

    for (const [signal, code, said] of [["SIGINT", 130, "interrupted \\(Ctrl-C\\)"], ["SIGTERM", 143, "terminated \\(SIGTERM\\)"]] as const) {
        it(`${signal} while an edit is validated under the lease ends the push at once and lets go of the lease`, async () => {
            const scratch = mkdtempSync(path.join(tmpdir(), "bucketops-early-"));
            // A kubectl that says it started, then takes its time: validation is under way and will not end by itself soon.
            const started = path.join(scratch, "kubectl-started");
            const kubectl = path.join(scratch, "kubectl");
            writeFileSync(kubectl, `#!/bin/sh\necho >> ${JSON.stringify(started)}\nexec sleep 20\n`, { mode: 0o755 });
            // A strategic-merge patch of a ConfigMap: a build validation leaves to kubectl.
            const dir = writeTree({
                ...manifestTree(["a"], signal),
                "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml\npatches:\n  - path: patch.yaml\n",
                "patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\ndata:\n  patched: x\n",
            });
            const child = spawn(process.execPath, [BIN, "push", dir, `s3://early/${signal}/`, "--endpoint", moto.endpoint], {
                stdio: ["ignore", "pipe", "pipe"],
                env: { ...process.env, KUBECTL: kubectl, BUCKETOPS_CACHE_DIR: path.join(scratch, "cache") },
            });
            let stderr = "";
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
            const leaseKey = `${signal}/${LEASE_NAME}`;
            const deadline = Date.now() + 20_000;
            while (!(existsSync(started) && Object.keys(await moto.md5s("early", `${signal}/`)).includes(leaseKey))) {
                assert.ok(Date.now() < deadline, `kubectl did not start under the lease: ${stderr}`);
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
            const sent = Date.now();
            child.kill(signal);
            assert.equal(await closed, code, stderr);
            assert.ok(Date.now() - sent < 5_000, "the push did not wait for validation to end");
            assert.match(stderr, new RegExp(`^bucketops: ${said} while the tree was validated: nothing was written, and the push lets go of its lease$`, "m"));
            assert.deepEqual(await moto.leftBehind("early", `${signal}/`), [], "the lease deleted, nothing else written");
        });
    }
});
