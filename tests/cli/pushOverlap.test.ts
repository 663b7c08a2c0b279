import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { push } from "../../src/cli/push.ts";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { MemoryStore } from "../support/memoryStore.ts";
import { manifestTree, writeTree } from "../support/trees.ts";

/**
 * A store that answers the bucket's .sourceignore only once the listing and the versioning setting were asked for:
 * a push that waited for that answer before sending them would fail here (issue 28: requests that need nothing from
 * each other go out together, one round trip before the plan instead of two).
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
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (!this.asked.includes("versioning") || !this.asked.some((call) => call.startsWith("list "))) {
            throw new Error(`.sourceignore was awaited before the listing and the versioning setting were asked for: ${this.asked.join(", ")}`);
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

        // Nothing changed: planned from the listing that went out beside the .sourceignore request, nothing written.
        const writes = store.calls.length;
        const again = await push(dir, store, options);
        assert.equal(again.plan.uploads.length, 0);
        assert.equal(again.plan.unchanged.length, 3);
        assert.equal(store.calls.length, writes, "a push that changes nothing writes nothing");
    });

    it("reports a tree that cannot be pushed first, even when the bucket refuses the listing", async () => {
        const store = new SlowIgnoreStore("s3://memory/app/");
        store.list = async () => Promise.reject(new Error("AccessDenied: list"));
        await assert.rejects(push(writeTree({}), store, options), /has no files: pushing it would delete every object under the prefix/);
    });
});
