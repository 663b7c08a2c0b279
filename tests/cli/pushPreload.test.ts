import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { push } from "../../src/cli/push.ts";
import { ValidationCache } from "../../src/cli/validationCache.ts";
import { MemoryStore } from "../support/memoryStore.ts";
import { manifestTree, writeTree } from "../support/trees.ts";

// Its own file (its own process): it watches the validator being loaded, which happens once per process.
const loaded: string[] = [];
registerHooks({
    load(url, context, nextLoad) {
        loaded.push(url);
        return nextLoad(url, context);
    },
});
const validatorLoaded = () => loaded.some((url) => url.endsWith("/src/validate/tree.ts"));

/** Answers the bucket's .sourceignore only once the validator has started loading (or fails after 5 s). */
class WaitsForValidator extends MemoryStore {
    override async get(key: string, versionId?: string) {
        if (key === SOURCEIGNORE) {
            for (const deadline = performance.now() + 5000; !validatorLoaded(); await sleep(10)) {
                if (performance.now() > deadline) throw new Error("the validator did not start loading before the bucket's .sourceignore was needed");
            }
        }
        return super.get(key, versionId);
    }
}

describe("push: a tree not validated before has its validator loading while the bucket answers (in memory)", () => {
    it("starts loading the validator before it needs the bucket's .sourceignore, and validates and pushes the tree", async () => {
        assert.equal(validatorLoaded(), false, "nothing loaded the validator before the push");
        const store = new WaitsForValidator("s3://memory/app/");
        const lines: string[] = [];
        const result = await push(writeTree(manifestTree(["a", "b"], "v1")), store, {
            prune: true,
            dryRun: false,
            allowUnversioned: false,
            skipBuild: true,
            validationCache: new ValidationCache(path.join(mkdtempSync(path.join(tmpdir(), "bucketops-cache-")), "cache")),
            concurrency: 4,
            lease: { waitMs: 0, breakStale: false, conditional: true },
            log: (line) => lines.push(line),
        });
        assert.equal(result.plan.uploads.length, 3);
        assert.ok(lines.some((line) => /^validated 3 file\(s\) in \S+$/.test(line)), lines.join("\n"));
    });
});
