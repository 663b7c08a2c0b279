import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { leaseKey, releaseKey } from "../../src/bucket/keys.ts";
import { guardedWrite, type Writer } from "../../src/cli/guardedWrite.ts";
import type { State } from "../../src/cli/history.ts";
import { planRollback } from "../../src/cli/rollback.ts";
import type { ObjectEntry, ObjectVersion } from "../../src/cli/store/types.ts";
import { MemoryStore } from "../support/memoryStore.ts";

const lease = { waitMs: 0, breakStale: false, conditional: true };

/** A writer that puts `objects` and deletes every other key: its plan is a pure function of the listing. */
function replaceWith(store: MemoryStore, objects: Record<string, string>, planned: ObjectEntry[][] = []): Writer<{ puts: string[]; deletes: ObjectEntry[]; keep: ObjectEntry[] }> {
    return {
        command: "push",
        plan: (listing) => {
            planned.push(listing);
            return {
                puts: Object.keys(objects).filter((key) => !listing.some((entry) => entry.key === key && entry.md5 === md5Of(objects[key]))),
                deletes: listing.filter((entry) => !(entry.key in objects)),
                keep: listing.filter((entry) => entry.key in objects && entry.md5 === md5Of(objects[entry.key])),
            };
        },
        changes: (plan) =>
            plan.puts.length + plan.deletes.length === 0
                ? undefined
                : {
                      keep: plan.keep,
                      deletes: plan.deletes,
                      writes: plan.puts.map((key) => ({ key, run: () => store.put(key, Buffer.from(objects[key]), { md5: Buffer.alloc(16), contentType: "text/plain" }) })),
                  },
        describe: () => undefined,
        release: async (_, written, listing) => ({
            facts: { command: "push", revision: `${written.length} objects`, added: [], modified: [], removed: [], objects: written, before: { objects: listing, revision: `${listing.length} objects` } },
        }),
    };
}

const md5Of = (text: string) => createHash("md5").update(text).digest("hex");

describe("guardedWrite: one order for every writer (a fake ObjectStore)", () => {
    it("takes the lease, plans from a listing under it, writes, deletes, records the release, then lets go", async () => {
        const store = new MemoryStore();
        store.seed({ "app/old.yaml": "old", "app/same.yaml": "same" });
        const planned: ObjectEntry[][] = [];
        // Another writer changed the prefix after the caller's first look: the plan sees the listing under the lease.
        store.seed({ "app/late.yaml": "late" });
        const events: string[] = [];
        const result = await guardedWrite(replaceWith(store, { "app/new.yaml": "new", "app/same.yaml": "same" }, planned), {
            store,
            prefix: "app/",
            lease,
            concurrency: 2,
            afterResume: async () => void events.push(`after resume: ${store.calls.at(-1)}`),
            log: () => undefined,
        });
        assert.deepEqual(planned.length, 1);
        assert.deepEqual(planned[0].map((entry) => entry.key).sort(), ["app/late.yaml", "app/old.yaml", "app/same.yaml"], "under the lease, without bucketops' own keys");
        assert.deepEqual(store.calls, [
            `put ${leaseKey("app/")}`,
            "put app/new.yaml",
            "delete app/old.yaml,app/late.yaml",
            `put ${releaseKey("app/")}`,
            `delete ${leaseKey("app/")}`,
        ]);
        assert.deepEqual(events, [`after resume: put ${releaseKey("app/")}`], "afterResume runs under the lease, after the record");
        assert.deepEqual(result.objects?.map((entry) => entry.key).sort(), ["app/new.yaml", "app/same.yaml"]);
    });

    it("a plan that changes nothing writes nothing but the lease, and does not record a release", async () => {
        const store = new MemoryStore();
        store.seed({ "app/a.yaml": "a" });
        const result = await guardedWrite(replaceWith(store, { "app/a.yaml": "a" }), { store, prefix: "app/", lease, concurrency: 1, log: () => undefined });
        assert.equal(result.objects, undefined);
        assert.deepEqual(store.calls, [`put ${leaseKey("app/")}`, `delete ${leaseKey("app/")}`]);
    });

    it("under a lease the caller holds (a rollback after a failed push), it neither takes nor releases one", async () => {
        const store = new MemoryStore();
        let inner: string[] = [];
        await guardedWrite(replaceWith(store, { "app/a.yaml": "v1" }), {
            store,
            prefix: "app/",
            lease,
            concurrency: 1,
            log: () => undefined,
            afterResume: async (held) => {
                const before = store.calls.length;
                await guardedWrite(replaceWith(store, { "app/a.yaml": "v0" }), { store, prefix: "app/", lease: held, concurrency: 1, log: () => undefined });
                inner = store.calls.slice(before);
            },
        });
        assert.deepEqual(inner, ["put app/a.yaml", `put ${releaseKey("app/")}`]);
        assert.equal(store.calls.at(-1), `delete ${leaseKey("app/")}`, "the outer write lets go once");
    });
});

describe("planRollback: pure", () => {
    const version = (key: string, md5: string, versionId = "1"): ObjectVersion => ({ key, versionId, etag: md5, md5, size: 1, lastModified: new Date(0), deleteMarker: false, latest: false });
    const target = (versions: ObjectVersion[]): State => ({
        time: new Date(0),
        revision: "sha256:t",
        objects: new Map(versions.map((v) => [v.key, v])),
        indexed: versions.length,
        source: "release",
        external: false,
        added: [],
        modified: [],
        removed: [],
        incomplete: false,
    });

    it("restores what differs, keeps what matches by etag or by MD5 and size, deletes what the target lacks", () => {
        const listing: ObjectEntry[] = [
            { key: "app/same.yaml", etag: "e1", size: 1, md5: "m1" },
            { key: "app/copied.yaml", etag: "other-etag", size: 1, md5: "m2" },
            { key: "app/changed.yaml", etag: "e3", size: 1, md5: "m3" },
            { key: "app/extra.yaml", etag: "e4", size: 1, md5: "m4" },
        ];
        const plan = planRollback(
            target([version("app/same.yaml", "e1"), { ...version("app/copied.yaml", "e2"), md5: "m2" }, version("app/changed.yaml", "old"), version("app/gone.yaml", "e5")]),
            listing,
        );
        assert.deepEqual(plan.keep.map((e) => e.key), ["app/same.yaml", "app/copied.yaml"]);
        assert.deepEqual(plan.copies.map(({ key }) => key), ["app/changed.yaml", "app/gone.yaml"]);
        assert.deepEqual(plan.deletes.map((e) => e.key), ["app/extra.yaml"]);
    });
});
