import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { after, before, describe, it } from "node:test";
import { isBucketopsKey, isLeaseKey, BUCKETOPS_IGNORE, leaseKey } from "../../src/bucket/keys.ts";
import { BURST_GAP_MS } from "../../src/cli/history.ts";
import { Lease } from "../../src/cli/lease.ts";
import { ignoreMatcher, readPatterns } from "../../src/cli/sourceignore.ts";
import { S3Store } from "../../src/cli/store/s3.ts";
import type { ObjectStore } from "../../src/cli/store/types.ts";
import { parseBucketUrl } from "../../src/cli/url.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { bucketops, md5, printedRevision, revisionOf, states } from "./helpers/cli.ts";
import { manifestTree, prefixed, writeTree } from "../support/trees.ts";
import { FakeGcs } from "./helpers/gcs.ts";
import { MemoryStore } from "../support/memoryStore.ts";
import { apart, Moto } from "../support/moto.ts";

/** Polls `condition` every 50 ms for up to 5 s. */
async function waitsFor(condition: () => Promise<boolean>, what: string): Promise<void> {
    // A monotonic clock: the wall clock of these machines has been seen to jump, ending a 5 s wait after 220 ms.
    for (const deadline = performance.now() + 5000; performance.now() < deadline; await sleep(50)) if (await condition()) return;
    assert.fail(`timed out waiting for ${what}`);
}

/** A lease record as another machine's bucketops would have left it. */
function foreignLease(overrides: Record<string, unknown>): string {
    return JSON.stringify({
        id: "elsewhere",
        holder: "ci@build-7 (pid 4242)",
        host: "build-7",
        pid: 4242,
        command: "push",
        acquired: "2026-11-24T10:00:00.000Z",
        expires: new Date(Date.now() + 60_000).toISOString(),
        state: "writing",
        ...overrides,
    });
}

/** Makes the next content upload of any S3Store wait until `open()` is called (the lease is written as usual). */
function gateUploads(): { reached: Promise<void>; open: () => void; restore: () => void } {
    const originalPut = S3Store.prototype.put;
    let open!: () => void;
    let reached!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    S3Store.prototype.put = async function (this: S3Store, ...args) {
        if (!isLeaseKey(args[0])) {
            reached();
            await opened;
        }
        return originalPut.apply(this, args);
    };
    return { reached: reachedPromise, open, restore: () => (S3Store.prototype.put = originalPut) };
}

// moto_server stands for S3's conditional writes here: PutObject with If-None-Match: * fails with 412 when the
// key exists, and with If-Match when the ETag differs (S3 has honoured both since 2024).
describe("the lease: one writer per prefix at a time (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await moto.createBucket("leases");
    });
    after(() => moto?.stop());

    it("keeps every lease and release record out of Flux's index: BUCKETOPS_IGNORE matches exactly the keys isBucketopsKey names", () => {
        const ignored = ignoreMatcher(readPatterns(BUCKETOPS_IGNORE));
        const keys = [
            ".bucketops-lock",
            "prod/.bucketops-lock",
            "teams/a/.bucketops-lock",
            ".bucketops-lock/x.yaml",
            "prod/.bucketops-lock.yaml",
            "prod/x.bucketops-lock",
            "prod/.Bucketops-lock",
            "prod/app.yaml",
            "prod/.bucketops-release",
            ".bucketops-release",
            "prod/.bucketops-releases",
        ];
        assert.deepEqual(keys.filter(ignored), keys.filter(isBucketopsKey));
        assert.deepEqual(keys.filter(isBucketopsKey), [
            ".bucketops-lock",
            "prod/.bucketops-lock",
            "teams/a/.bucketops-lock",
            ".bucketops-lock/x.yaml",
            "prod/.bucketops-release",
            ".bucketops-release",
        ]);
    });

    it("a second push exits 4 naming the holder, or waits with --wait-lock, and the prefix ends as one tree", async () => {
        const url = "s3://leases/race";
        const first = manifestTree(["a", "b"], "first");
        const second = manifestTree(["a", "c"], "second");
        assert.equal((await bucketops("push", writeTree(manifestTree(["a"], "v0")), url, ...endpoint)).code, 0);
        const before = printedRevision(await bucketops("revision", url, ...endpoint));

        const gate = gateUploads();
        try {
            const holder = bucketops("push", writeTree(first), url, ...endpoint);
            await gate.reached;
            // While the first push holds the lease, Flux's revision is unchanged: the lease is not in its index.
            assert.equal(printedRevision(await bucketops("revision", url, ...endpoint)), before);
            const lease = JSON.parse((await moto.contents("leases", "race/"))["race/.bucketops-lock"]);
            assert.equal(lease.host, hostname());
            assert.equal(lease.state, "writing");

            const refused = await bucketops("push", writeTree(second), url, ...endpoint);
            assert.equal(refused.code, 4);
            assert.match(
                refused.err,
                new RegExp(
                    `^bucketops: another writer holds the lease race/\\.bucketops-lock in s3://leases at \\S+ \\(${lease.holder.replace(/[()]/g, "\\$&")}, ` +
                        `push since ${lease.acquired}, renewed until \\S+\\)\\. Nothing was changed; re-run when it is done, or wait for it with --wait-lock <seconds>$`,
                ),
            );

            const waiting = bucketops("push", writeTree(second), url, ...endpoint, "--wait-lock", "30");
            gate.restore();
            gate.open();
            const [held, waited] = await Promise.all([holder, waiting]);
            assert.equal(held.code, 0, held.err);
            assert.equal(waited.code, 0, waited.err);
        } finally {
            gate.restore();
            gate.open();
        }
        assert.deepEqual(await moto.contents("leases", "race/"), prefixed("race/", second), "the later push's tree, and no lease left");
        const history = states(await bucketops("history", url, ...endpoint, "--json"));
        assert.ok(history.every((state) => !state.incomplete), JSON.stringify(history));
    });

    it("a lease this user's process on this host left is taken over by re-running only when that process is provably gone", async () => {
        const url = "s3://leases/ours";
        const here = { boot: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(), namespace: readlinkSync("/proc/self/ns/pid") };
        const mine = { host: hostname(), user: userInfo().username, holder: `${userInfo().username}@${hostname()} (pid 4242)`, acquired: new Date().toISOString() };
        const dead = 2 ** 22 + 17; // above pid_max's default: no such process
        const tree = manifestTree(["a"], "v1");

        // Another container with this hostname (its own pid namespace): its pid cannot be tested here, so the lease is live.
        await moto.put("leases", "ours/.bucketops-lock", foreignLease({ ...mine, pid: dead, pidSpace: { ...here, namespace: "pid:[1]" } }));
        const container = await bucketops("push", writeTree(tree), url, ...endpoint);
        assert.equal(container.code, 4, container.err);
        assert.match(container.err, /another writer holds the lease ours\/\.bucketops-lock/);

        // This machine before a restart (another boot id): even a pid that runs now (1) is not that process.
        await moto.put("leases", "ours/.bucketops-lock", foreignLease({ ...mine, pid: 1, pidSpace: { ...here, boot: "00000000-0000-0000-0000-000000000000" } }));
        const rebooted = await bucketops("push", writeTree(tree), url, ...endpoint);
        assert.equal(rebooted.code, 0, rebooted.err);
        assert.match(rebooted.out, /^note: took over the lease ours\/\.bucketops-lock/m);

        // Here, a process that runs and started before the lease was taken (pid 1) may be its holder: live.
        await moto.put("leases", "ours/.bucketops-lock", foreignLease({ ...mine, pid: 1, pidSpace: here }));
        assert.equal((await bucketops("push", writeTree(manifestTree(["a"], "v-live")), url, ...endpoint)).code, 4);

        // Here: a pid that no longer exists, or one that a process started after the lease was taken has now (reused).
        const later = spawn("sleep", ["30"]);
        try {
            const anHourAgo = new Date(Date.now() - 3_600_000).toISOString();
            for (const [pid, acquired] of [[dead, mine.acquired], [later.pid!, anHourAgo]] as const) {
                await moto.put("leases", "ours/.bucketops-lock", foreignLease({ ...mine, pid, acquired, pidSpace: here }));
                const taken = await bucketops("push", writeTree(manifestTree(["a"], `v-${pid}`)), url, ...endpoint);
                assert.equal(taken.code, 0, taken.err);
                assert.match(taken.out, /^note: took over the lease ours\/\.bucketops-lock/m);
            }
        } finally {
            later.kill();
        }
        // Another user's dead process on this host: --break-lock, with the exact command.
        await moto.put("leases", "ours/.bucketops-lock", foreignLease({ ...mine, user: "someone-else", holder: `someone-else@${hostname()} (pid ${dead})`, pid: dead, pidSpace: here }));
        const dir = writeTree(manifestTree(["a"], "v9"));
        const theirs = await bucketops("push", dir, url, ...endpoint);
        assert.equal(theirs.code, 4);
        assert.match(theirs.err, new RegExp(`process ${dead} on this host is gone.*re-run with --break-lock to take the lease over: bucketops push ${dir} ${url} --endpoint \\S+ --break-lock$`));
    });

    it("a stale lease needs --break-lock; a live one is never broken", async () => {
        const url = "s3://leases/stale";
        const tree = manifestTree(["a"], "v1");
        const expired = new Date(Date.now() - 1000).toISOString();
        await moto.put("leases", "stale/.bucketops-lock", foreignLease({ expires: expired }));

        const dir = writeTree(tree);
        const refused = await bucketops("push", dir, url, ...endpoint);
        assert.equal(refused.code, 4);
        assert.equal(
            refused.err,
            `bucketops: the lease stale/.bucketops-lock in s3://leases at ${moto.endpoint} was left by ci@build-7 (pid 4242), push ` +
                `since 2026-11-24T10:00:00.000Z, which stopped without letting go (it expired at ${expired}): the prefix may be ` +
                `half-written. Nothing was changed; see 'bucketops history', then re-run with --break-lock to take the lease over: ` +
                `bucketops push ${dir} ${url} ${endpoint.join(" ")} --break-lock`,
        );
        assert.deepEqual(Object.keys(await moto.contents("leases", "stale/")), ["stale/.bucketops-lock"]);

        const broken = await bucketops("push", writeTree(tree), url, ...endpoint, "--break-lock");
        assert.equal(broken.code, 0, broken.err);
        assert.match(broken.out, /^note: took over the lease stale\/\.bucketops-lock: the push by ci@build-7 \(pid 4242\) \(2026-11-24T10:00:00\.000Z\) stopped without letting go/m);
        assert.deepEqual(await moto.contents("leases", "stale/"), prefixed("stale/", tree));

        await moto.put("leases", "stale/.bucketops-lock", foreignLease({}));
        const live = await bucketops("push", writeTree(manifestTree(["b"], "v2")), url, ...endpoint, "--break-lock", "--wait-lock", "0.5");
        assert.equal(live.code, 4);
        assert.match(live.err, /another writer holds the lease .* and did not let go within 0\.5 s/);
        const { "stale/.bucketops-lock": kept, ...unchanged } = await moto.contents("leases", "stale/");
        assert.deepEqual(unchanged, prefixed("stale/", tree));
        assert.equal(JSON.parse(kept).holder, "ci@build-7 (pid 4242)", "a live lease is not broken");
    });

    it("a push that fails part-way marks its state incomplete; rollback refuses it; the next push takes over", async () => {
        const url = "s3://leases/partial";
        const v1 = manifestTree(["a", "b", "c"], "v1");
        const v2 = manifestTree(["a", "b"], "v2");
        const dir = writeTree(v1);
        const pushed = await apart(() => bucketops("push", dir, url, ...endpoint));
        assert.equal(pushed.code, 0, pushed.err);

        writeTree(v2, dir);
        const originalPut = S3Store.prototype.put;
        let uploads = 0;
        S3Store.prototype.put = async function (this: S3Store, ...args) {
            if (!isLeaseKey(args[0]) && ++uploads > 1) throw Object.assign(new Error("injected"), { name: "InternalError" });
            return originalPut.apply(this, args);
        };
        let failed;
        try {
            failed = await apart(() => bucketops("push", dir, url, ...endpoint, "--concurrency", "1"));
        } finally {
            S3Store.prototype.put = originalPut;
        }
        assert.equal(failed.code, 1);
        assert.match(failed.err, /push stopped: 1 of 3 object\(s\) written, nothing deleted/);
        assert.equal(JSON.parse((await moto.contents("leases", "partial/"))["partial/.bucketops-lock"]).state, "interrupted");

        const history = states(await bucketops("history", url, ...endpoint, "--json"));
        assert.deepEqual(history.map((state) => state.incomplete), [false, true]);
        const text = await bucketops("history", url, ...endpoint);
        assert.match(text.out, /4 object\(s\)  \(current\)  \(incomplete: a push or rollback stopped part-way\)$/m);

        const refused = await bucketops("rollback", url, ...endpoint, "--to", history[1].revision);
        assert.equal(refused.code, 2);
        assert.match(refused.err, /was written by a push or rollback that stopped part-way: it mixes two trees\. Nothing was changed; .* --allow-incomplete$/);

        const rerun = await apart(() => bucketops("push", dir, url, ...endpoint));
        assert.equal(rerun.code, 0, rerun.err);
        assert.match(rerun.out, /note: took over the lease partial\/\.bucketops-lock: the push by .* stopped part-way/);
        assert.equal(printedRevision(rerun), revisionOf(prefixed("partial/", v2)));
        assert.deepEqual(await moto.contents("leases", "partial/"), prefixed("partial/", v2));
        assert.deepEqual(states(await bucketops("history", url, ...endpoint, "--json")).map((state) => state.incomplete), [false, true, false]);
    });

    it("is renewed while held, and a writer that lost it stops before writing or deleting more", async () => {
        const store = new S3Store(parseBucketUrl("s3://leases/renewed"), { endpoint: moto.endpoint });
        const lines: string[] = [];
        const lease = await Lease.take(store, "renewed/", { command: "push", waitMs: 0, breakStale: false, conditional: true, ttlMs: 300, log: (l) => lines.push(l) });
        try {
            const read = async () => JSON.parse((await moto.contents("leases", "renewed/"))[leaseKey("renewed/")]);
            const first = await read();
            await waitsFor(async () => (await read()).expires !== first.expires, "the lease to be renewed");
            lease.check();

            await moto.put("leases", leaseKey("renewed/"), foreignLease({}));
            await waitsFor(async () => {
                try {
                    lease.check();
                    return false;
                } catch (error) {
                    assert.match((error as Error).message, /^lost the lease renewed\/\.bucketops-lock in s3:\/\/leases at \S+ while the push ran \(another writer took it over\); stopped before deleting anything/);
                    return true;
                }
            }, "the lease to be lost");
        } finally {
            await lease.release();
        }
        assert.equal(JSON.parse((await moto.contents("leases", "renewed/"))[leaseKey("renewed/")]).holder, "ci@build-7 (pid 4242)", "a lost lease is not released");
        store.close();
    });

    // moto stamps versions with S3's 1-second LastModified, as AWS does: writes 2.1 s apart are at least 2 s apart there.
    it("history shows a push that writes slowly as one state: its writes are under one lease, renewals included", async () => {
        const url = "s3://leases/slow";
        const v1 = manifestTree(["a", "b"], "v1");
        const v2 = manifestTree(["a", "b"], "v2");
        const dir = writeTree(v1);
        assert.equal((await apart(() => bucketops("push", dir, url, ...endpoint))).code, 0);

        writeTree(v2, dir);
        const originalPut = S3Store.prototype.put;
        S3Store.prototype.put = async function (this: S3Store, ...args) {
            if (!isLeaseKey(args[0])) await sleep(2100);
            return originalPut.apply(this, args);
        };
        let slow;
        try {
            slow = await apart(() => bucketops("push", dir, url, ...endpoint, "--concurrency", "1"));
        } finally {
            S3Store.prototype.put = originalPut;
        }
        assert.equal(slow.code, 0, slow.err);
        const store = new S3Store(parseBucketUrl(url), { endpoint: moto.endpoint });
        const [a, b] = ["slow/a.yaml", "slow/b.yaml"].map(async (key) => (await store.listVersions(key)).find((v) => v.latest)!.lastModified.getTime());
        assert.ok(Math.abs((await a) - (await b)) > BURST_GAP_MS, "the push's two writes are further apart than one burst (the case under test)");

        // A writer that renews its lease (every 100 ms here) between writes 2.1 s apart: still one state.
        const lease = await apart(() => Lease.take(store, "slow/", { command: "push", waitMs: 0, breakStale: false, conditional: true, ttlMs: 300, log: () => undefined }));
        lease.writing();
        for (const [key, body] of Object.entries({ "slow/a.yaml": "# v3 a\n", "slow/b.yaml": "# v3 b\n" })) {
            await sleep(2100);
            await store.put(key, Buffer.from(body), { md5: Buffer.from(md5(body), "hex"), contentType: "application/yaml" });
        }
        lease.settled();
        await lease.release();
        store.close();
        const leaseVersions = (await new S3Store(parseBucketUrl(url), { endpoint: moto.endpoint }).listVersions("slow/")).filter((v) => isLeaseKey(v.key) && !v.deleteMarker);
        assert.ok(leaseVersions.length >= 10, "the lease was renewed between the writes");

        const history = states(await bucketops("history", url, ...endpoint, "--json"));
        assert.deepEqual(
            history.map(({ objects, added, modified, removed, incomplete }) => ({ objects, added, modified, removed, incomplete })),
            [
                { objects: 3, added: ["slow/a.yaml", "slow/b.yaml", "slow/kustomization.yaml"], modified: [], removed: [], incomplete: false },
                { objects: 3, added: [], modified: ["slow/a.yaml", "slow/b.yaml"], removed: [], incomplete: false },
                { objects: 3, added: [], modified: ["slow/a.yaml", "slow/b.yaml"], removed: [], incomplete: false },
            ],
        );
        assert.equal(history[1].revision, revisionOf(prefixed("slow/", v2)));
    });

    it("refuses a tree with a file named like the lease", async () => {
        const run = await bucketops("push", writeTree({ ...manifestTree(["a"], "v1"), "sub/.bucketops-lock": "x" }), "s3://leases/reserved", ...endpoint);
        assert.equal(run.code, 2);
        assert.match(run.err, /'sub\/\.bucketops-lock' in \S+: the names \.bucketops-lock and \.bucketops-release are bucketops' lease and release records, which Flux ignores; rename it$/);
        assert.deepEqual(await moto.versions("leases", "reserved/"), []);
    });
});

// The GCS stand-in implements ifGenerationMatch=0 (create only) and ifGenerationMatch=<n> as GCS documents them.
describe("the lease on gs:// (local JSON API stand-in)", () => {
    let gcs: FakeGcs;
    before(async () => {
        gcs = await FakeGcs.start();
        gcs.createBucket("gcs-leases");
    });
    after(() => gcs?.close());

    it("is taken with ifGenerationMatch=0, refuses a second writer, and is gone after the push", async () => {
        const endpoint = ["--endpoint", gcs.endpoint];
        gcs.put("gcs-leases", "env/.bucketops-lock", foreignLease({}));
        const refused = await bucketops("push", writeTree(manifestTree(["a"], "v1")), "gs://gcs-leases/env", ...endpoint);
        assert.equal(refused.code, 4);
        assert.match(refused.err, /^bucketops: another writer holds the lease env\/\.bucketops-lock in gs:\/\/gcs-leases/);

        gcs.put("gcs-leases", "env/.bucketops-lock", foreignLease({ state: "interrupted" }));
        const pushed = await bucketops("push", writeTree(manifestTree(["a"], "v1")), "gs://gcs-leases/env", ...endpoint);
        assert.equal(pushed.code, 0, pushed.err);
        assert.deepEqual(Object.keys(gcs.contents("gcs-leases")).sort(), ["env/a.yaml", "env/kustomization.yaml"]);
    });
});

describe("taking the lease from a store that never lets it be taken", () => {
    it("gives up after a bounded number of races instead of hanging", async () => {
        // A store that lists a lease it cannot read (as a listing and a read that disagree would), and refuses
        // every create: each look is a lost race; the loop must end.
        let requests = 0;
        const store = {
            description: "s3://stubborn",
            list: async (key: string) => (requests++, [{ key, etag: "x", size: 1 }]),
            get: async () => (requests++, undefined),
        } as unknown as ObjectStore;
        await assert.rejects(
            Lease.take(store, "env/", { command: "push", waitMs: 0, breakStale: false, conditional: true, log: () => undefined }),
            { message: "could not take the lease env/.bucketops-lock in s3://stubborn: it changed under every one of 10 attempts. Nothing was changed; re-run" },
        );
        assert.equal(requests, 22);
    });
});

describe("taking the lease when the caller's listing showed none (issue 28: one request)", () => {
    it("creates it if absent; a lease that appeared since is read and respected, never overwritten", async () => {
        const store = new MemoryStore("s3://memory/env/");
        const options = { command: "push", waitMs: 0, breakStale: false, conditional: true, listedAbsent: true, log: () => undefined };
        const taken = await Lease.take(store, "env/", options);
        assert.deepEqual(store.calls, [`put ${leaseKey("env/")}`], "one create-if-absent, no listing or read first");
        await taken.release();

        // Another writer took it between the caller's listing and this take: the create is refused, and the live lease stands.
        store.seed({ [leaseKey("env/")]: foreignLease({}) });
        const calls = store.calls.length;
        await assert.rejects(Lease.take(store, "env/", options), /another writer holds the lease env\/\.bucketops-lock/);
        assert.deepEqual(store.calls.slice(calls), [], "nothing written");
        assert.equal(readLease(await store.get(leaseKey("env/"))).holder, JSON.parse(foreignLease({})).holder);

        // Without conditional writes the hint is not enough: the lease is looked at first, as before.
        await assert.rejects(Lease.take(store, "env/", { ...options, conditional: false }), /another writer holds the lease/);
        assert.deepEqual(store.calls.slice(calls), []);
    });
});

const readLease = (body: Buffer | undefined) => JSON.parse(body!.toString("utf8")) as { holder: string };
