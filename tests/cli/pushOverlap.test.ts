import assert from "node:assert/strict";
import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { push } from "../../src/cli/push.ts";
import { releaseKey, SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { MemoryStore } from "../support/memoryStore.ts";
import { gitRepository, manifestTree, writeTree } from "../support/trees.ts";

/**
 * A store that answers the bucket's .sourceignore only once the listing and the versioning setting were asked for:
 * a push that waited for that answer before sending them never gets it, and fails here after 5 s (issue 28: requests
 * that need nothing from each other go out together, one round trip before the plan instead of two). It waits for
 * them rather than a fixed time: what the push loads meanwhile (the validator, the first time in this process) takes
 * what the machine gives it. The versioning setting is asked as soon as the listing shows that the push will write
 * (and not at all when it will not).
 */
class SlowIgnoreStore extends MemoryStore {
    readonly asked: string[] = [];
    override async list(prefix: string) {
        this.asked.push(`list ${prefix}`);
        return super.list(prefix);
    }
    override async versioningEnabled() {
        this.asked.push("versioning");
        return super.versioningEnabled();
    }
    override async get(key: string, versionId?: string) {
        if (key !== SOURCEIGNORE) return super.get(key, versionId);
        this.asked.push(`get ${key}`);
        const bothAsked = () => this.asked.includes("versioning") && this.asked.some((call) => call.startsWith("list "));
        for (const deadline = performance.now() + 5000; !bothAsked(); await sleep(5)) {
            if (performance.now() > deadline) {
                throw new Error(`.sourceignore was awaited before the listing and the versioning setting were asked for: ${this.asked.join(", ")}`);
            }
        }
        return super.get(key, versionId);
    }
}

const options = {
    prune: true,
    dryRun: false,
    allowUnversioned: false,
    skipBuild: true,
    concurrency: 4,
    lease: { waitMs: 0, breakStale: false, conditional: true },
    log: () => undefined,
};

describe("push: the requests before the plan overlap (in memory)", () => {
    it("asks for the listing and the versioning setting without waiting for the bucket's .sourceignore, and still plans from them", async () => {
        const store = new SlowIgnoreStore("s3://memory/app/");
        const dir = writeTree(manifestTree(["a", "b"], "v1"));
        const first = await push(dir, store, options);
        assert.equal(first.plan.uploads.length, 3);
        assert.deepEqual(store.asked.slice(0, 3).sort(), ["get .sourceignore", "list app/", "versioning"]);
        assert.ok(store.asked.indexOf("versioning") > store.asked.indexOf("list app/"), store.asked.join(", "));

        // Nothing changed: planned from the listing that went out beside the .sourceignore request, nothing written.
        const writes = store.calls.length;
        const again = await push(dir, store, options);
        assert.equal(again.plan.uploads.length, 0);
        assert.equal(again.plan.unchanged.length, 3);
        assert.equal(store.calls.length, writes, "a push that changes nothing writes nothing");
        assert.equal(store.asked.filter((call) => call === "versioning").length, 1, "nor asks whether the bucket keeps versions");
    });

    it("reports a tree that cannot be pushed first, even when the bucket refuses the listing", async () => {
        const store = new SlowIgnoreStore("s3://memory/app/");
        store.list = async () => Promise.reject(new Error("AccessDenied: list"));
        await assert.rejects(push(writeTree({}), store, options), /has no files: pushing it would delete every object under the prefix/);
    });

    it("asks git for the release record while it writes, not after: the record has the commit", async () => {
        const { dir, commit } = gitRepository(manifestTree(["a"], "v1"), "Add a");
        // Every git command this process starts, in order (execFile, as promisify calls it).
        const started: string[] = [];
        const original = childProcess.execFile;
        const custom = (original as unknown as Record<symbol, (...args: unknown[]) => unknown>)[promisify.custom];
        const recording = Object.assign((...args: Parameters<typeof original>) => original(...args), {
            [promisify.custom]: (file: string, args: string[], ...rest: unknown[]) => {
                started.push(`${file} ${args.filter((arg) => !arg.startsWith("/") && arg !== "-C").join(" ")}`);
                return custom(file, args, ...rest);
            },
        });
        class Recording extends MemoryStore {
            readonly gitBeforeUpload: boolean[] = [];
            override async put(...args: Parameters<MemoryStore["put"]>) {
                if (args[0].endsWith(".yaml")) this.gitBeforeUpload.push(started.some((command) => command.startsWith("git rev-parse HEAD")));
                return super.put(...args);
            }
        }
        const store = new Recording("s3://memory/app/");
        (childProcess as { execFile: unknown }).execFile = recording;
        syncBuiltinESMExports();
        try {
            await push(dir, store, options);
        } finally {
            (childProcess as { execFile: unknown }).execFile = original;
            syncBuiltinESMExports();
        }
        assert.deepEqual(store.gitBeforeUpload, [true, true], "git was asked before the first upload");
        const record = JSON.parse((await store.get(releaseKey("app/")))!.toString("utf8")) as { git?: { commit: string }; message?: string };
        assert.equal(record.git?.commit, commit);
        assert.equal(record.message, "Add a");
    });
});
