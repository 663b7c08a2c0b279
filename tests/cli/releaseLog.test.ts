import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { loadHistory } from "../../src/cli/history.ts";
import { LOG_RELEASES, manifestDelta, readRelease, undoDelta, writeRelease, type ManifestEntry, type ReleaseRecord } from "../../src/cli/provenance.ts";
import { fluxRevision } from "../../src/cli/revision.ts";
import { releaseKey } from "../../src/bucket/keys.ts";
import type { ObjectEntry } from "../../src/cli/store/types.ts";
import { MemoryStore } from "../support/memoryStore.ts";

/** A MemoryStore that counts the reads of release records (a version of `<prefix>.bucketops-release`). */
class CountingStore extends MemoryStore {
    recordReads = 0;
    override async get(key: string, versionId?: string): Promise<Buffer | undefined> {
        if (versionId && key.endsWith(".bucketops-release")) this.recordReads++;
        return super.get(key, versionId);
    }
}

/** A CountingStore whose record reads take a few milliseconds, and that notes how many were under way at once. */
class SlowRecordStore extends CountingStore {
    reading = 0;
    mostAtOnce = 0;
    override async get(key: string, versionId?: string): Promise<Buffer | undefined> {
        if (!versionId || !key.endsWith(".bucketops-release")) return super.get(key, versionId);
        this.mostAtOnce = Math.max(this.mostAtOnce, ++this.reading);
        try {
            await new Promise((resolve) => setTimeout(resolve, 5));
            return await super.get(key, versionId);
        } finally {
            this.reading--;
        }
    }
}

/** A deterministic stream of numbers in [0, 1) (a small LCG), so a failure can be replayed. */
function random(seed: number): () => number {
    let state = seed;
    return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const md5 = (text: string) => createHash("md5").update(text).digest();

/**
 * `count` releases of random pushes (adds, changes, removals of up to a few of 30 keys), each recorded with
 * writeRelease as a push records it; returns every record as written.
 */
async function writeRandomReleases(store: MemoryStore, prefix: string, count: number, seed: number): Promise<void> {
    const next = random(seed);
    let objects: ObjectEntry[] = [];
    for (let release = 1; release <= count; release++) {
        const before = objects;
        const byKey = new Map(objects.map((entry) => [entry.key, entry]));
        for (let change = 0; change < 1 + Math.floor(next() * 4); change++) {
            const key = `${prefix}apps/f-${Math.floor(next() * 30)}.yaml`;
            if (byKey.has(key) && next() < 0.3 && byKey.size > 1) {
                await store.delete([key]);
                byKey.delete(key);
            } else {
                const body = Buffer.from(`release: ${release}\nkey: ${key}\n`);
                byKey.set(key, await store.put(key, body, { md5: md5(body.toString()), contentType: "application/yaml" }));
            }
        }
        objects = [...byKey.values()];
        await writeRelease(store, prefix, {
            command: "push",
            revision: fluxRevision(objects, []),
            added: [],
            modified: [],
            removed: [],
            objects,
            before: { objects: before, revision: fluxRevision(before, []) },
        });
    }
}

/** `count` releases that each rewrite 40 keys of long names: their deltas fill a log's LOG_BYTES before LOG_RELEASES. */
async function writeBigReleases(store: MemoryStore, prefix: string, count: number): Promise<void> {
    let objects: ObjectEntry[] = [];
    for (let release = 1; release <= count; release++) {
        const before = objects;
        objects = [];
        for (let file = 0; file < 40; file++) {
            const key = `${prefix}apps/${"a-rather-long-folder-name/".repeat(4)}file-${file}.yaml`;
            const body = Buffer.from(`release: ${release}\nfile: ${file}\n`);
            objects.push(await store.put(key, body, { md5: md5(body.toString()), contentType: "application/yaml" }));
        }
        await writeRelease(store, prefix, {
            command: "push",
            revision: fluxRevision(objects, []),
            added: [],
            modified: objects.map((entry) => entry.key),
            removed: [],
            objects,
            before: { objects: before, revision: fluxRevision(before, []) },
        });
    }
}

/** Every version of the release record as written, oldest first. */
async function writtenRecords(store: MemoryStore, prefix: string): Promise<ReleaseRecord[]> {
    const versions = (await store.listVersions(releaseKey(prefix))).filter((v) => !v.deleteMarker).reverse();
    return Promise.all(versions.map(async (v) => readRelease(await store.get(v.key, v.versionId))!));
}

const asText = (manifest: ManifestEntry[] | undefined) => (manifest ?? []).map((entry) => entry.join(" ")).join("\n");

describe("release logs: history reads one record per LOG_RELEASES releases and rebuilds the others' manifests exactly", () => {
    it("manifestDelta and undoDelta turn a manifest into the one before it and back, whatever changed", () => {
        const next = random(7);
        for (let round = 0; round < 200; round++) {
            const manifest = () =>
                [...new Set(Array.from({ length: Math.floor(next() * 12) }, () => `k-${Math.floor(next() * 15)}`))]
                    .sort()
                    .map((key): ManifestEntry => [key, `v${Math.floor(next() * 3)}`, `e${Math.floor(next() * 3)}`, Math.floor(next() * 3)]);
            const before = manifest();
            const after = manifest();
            assert.deepEqual(undoDelta(after, manifestDelta(before, after)), before);
        }
    });

    it("history of 150 random releases equals the records written, read in ceil(150 / (LOG_RELEASES + 1)) GETs", async () => {
        const store = new CountingStore(`s3://memory-${randomUUID()}/app/`);
        await writeRandomReleases(store, "app/", 150, 42);
        const written = await writtenRecords(store, "app/");
        assert.ok(written.at(-1)!.log!.length === LOG_RELEASES && written.at(-1)!.delta !== undefined);
        store.recordReads = 0;
        const states = (await loadHistory(store)).filter((state) => state.source === "release");
        assert.equal(states.length, 150);
        for (const [i, state] of states.entries()) {
            assert.equal(state.number, i + 1);
            assert.equal(state.release!.id, written[i].id);
            assert.equal(asText(state.release!.objects), asText(written[i].objects), `release ${i + 1}'s manifest`);
            assert.equal(state.revision, written[i].revision);
        }
        assert.equal(store.recordReads, Math.ceil(150 / (LOG_RELEASES + 1)));
    });

    it("reads the records a long history needs together, not one round trip after another", async () => {
        const store = new SlowRecordStore(`s3://memory-${randomUUID()}/app/`);
        await writeRandomReleases(store, "app/", 150, 42);
        store.recordReads = 0;
        const states = (await loadHistory(store)).filter((state) => state.source === "release");
        assert.equal(states.length, 150);
        // Versions 150, 117, 84, 51 and 18 hold the logs of the rest: all five asked for at once, and no other.
        assert.equal(store.recordReads, Math.ceil(150 / (LOG_RELEASES + 1)));
        assert.equal(store.mostAtOnce, Math.ceil(150 / (LOG_RELEASES + 1)));
    });

    it("logs that LOG_BYTES cut short: history is exact, and reading ahead wastes a few reads at most", async () => {
        const store = new CountingStore(`s3://memory-${randomUUID()}/app/`);
        await writeBigReleases(store, "app/", 60);
        const written = await writtenRecords(store, "app/");
        const logLength = written.at(-1)!.log!.length;
        assert.ok(logLength > 1 && logLength < LOG_RELEASES, `a log of ${logLength} releases`);
        // The records that must be read: from the newest, each one whose log does not reach back further.
        let needed = 0;
        for (let i = written.length - 1; i >= 0; i -= (written[i].log?.length ?? 0) + 1) needed++;
        store.recordReads = 0;
        const states = (await loadHistory(store)).filter((state) => state.source === "release");
        assert.equal(states.length, 60);
        for (const [i, state] of states.entries()) assert.equal(asText(state.release!.objects), asText(written[i].objects), `release ${i + 1}`);
        assert.ok(store.recordReads >= needed && store.recordReads <= needed + 8, `${store.recordReads} reads, ${needed} needed`);
    });

    it("a log that disagrees with the records is not used: every record is read, and history is still exact", async () => {
        const store = new CountingStore(`s3://memory-${randomUUID()}/app/`);
        await writeRandomReleases(store, "app/", 40, 9);
        // Another writer's bug: a record whose log claims a different delta for the release before it.
        const last = readRelease(await store.get(releaseKey("app/")))!;
        const forged: ReleaseRecord = { ...last, number: 41, id: randomUUID(), log: last.log!.map((entry, i, all) => (i === all.length - 1 ? { ...entry, delta: { set: [], dropped: [] } } : entry)) };
        forged.log!.push({ ...last, objects: undefined, log: undefined } as never);
        forged.delta = { set: [], dropped: [] };
        const body = Buffer.from(`${JSON.stringify(forged)}\n`);
        await store.put(releaseKey("app/"), body, { md5: md5(body.toString()), contentType: "application/json" });
        const written = await writtenRecords(store, "app/");
        store.recordReads = 0;
        const states = (await loadHistory(store)).filter((state) => state.source === "release");
        assert.equal(states.length, 41);
        for (const [i, state] of states.entries()) assert.equal(asText(state.release!.objects), asText(written[i].objects), `release ${i + 1}`);
        assert.equal(store.recordReads, 41, "every record, each once (the newest is not read again)");
    });

    it("records written before logs are read one by one, as before", async () => {
        const store = new CountingStore(`s3://memory-${randomUUID()}/app/`);
        await writeRandomReleases(store, "app/", 10, 3);
        // The same releases as an older bucketops wrote them: no delta, no log.
        const old = new CountingStore(`s3://memory-${randomUUID()}/app/`);
        for (const record of await writtenRecords(store, "app/")) {
            const { delta: _delta, log: _log, ...plain } = record;
            const body = Buffer.from(`${JSON.stringify(plain)}\n`);
            await old.put(releaseKey("app/"), body, { md5: md5(body.toString()), contentType: "application/json" });
        }
        const states = await loadHistory(old);
        assert.equal(old.recordReads, 10);
        assert.equal(states.filter((state) => state.source === "release").length, 10);
    });
});
