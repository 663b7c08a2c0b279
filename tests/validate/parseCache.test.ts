import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ManifestValidationError, validateTree } from "../../src/validate/index.ts";
import { jsonSafe, type ParsedContent } from "../../src/validate/yamlFiles.ts";
import { CountingCache } from "../support/countingCache.ts";
import { configMap, manifestTree, widgetCrd, writeTree } from "../support/trees.ts";

/** The parse cache's options for validateTree: the cache, each file known by its content's MD5 (as bucketops keys it). */
const parseOptions = (cache: CountingCache<ParsedContent>) => ({ cache, keyOf: (file: string) => createHash("md5").update(readFileSync(file)).digest("hex") });

describe("validateTree with a parse cache (what bucketops keeps between pushes)", () => {
    it("parses only the files whose content it has not seen, with the same outcome", async () => {
        const dir = writeTree(manifestTree(["a", "b", "c"], "v1"));
        const cache = new CountingCache<ParsedContent>();
        await validateTree(dir, { parseCache: parseOptions(cache) });
        assert.equal(cache.entries.size, 4, "every file that parsed is kept");

        writeFileSync(path.join(dir, "b.yaml"), configMap("b", "v2"));
        cache.reset();
        await validateTree(dir, { parseCache: parseOptions(cache) });
        const changed = createHash("md5").update(configMap("b", "v2")).digest("hex");
        assert.deepEqual(cache.sets, [changed], "the changed file is parsed");
        assert.equal(cache.hits, 3);

        // A broken change is found as without the cache, and a file that does not parse is never kept.
        writeFileSync(path.join(dir, "c.yaml"), configMap("c", "v1").replace('value: "v1"', "value: 5"));
        const without = await validateTree(dir).catch((error: ManifestValidationError) => error.message);
        const withCache = await validateTree(dir, { parseCache: parseOptions(cache) }).catch((error: ManifestValidationError) => error.message);
        assert.equal(withCache, without);
        assert.match(String(without), /c\.yaml: ConfigMap\/c: data\.value: must be string \(got 5\)/);
        // A file that does not parse stops the build that lists it: that is the one mistake reported.
        writeFileSync(path.join(dir, "a.yaml"), "kind: [\n");
        const brokenWithout = await validateTree(dir).catch((error: ManifestValidationError) => error.message);
        const brokenWith = await validateTree(dir, { parseCache: parseOptions(cache) }).catch((error: ManifestValidationError) => error.message);
        assert.equal(brokenWith, brokenWithout);
        assert.match(String(brokenWithout), /a\.yaml: YAML syntax error/);
        assert.ok(!cache.entries.has(createHash("md5").update("kind: [\n").digest("hex")));
    });

    it("checks a cached file's objects again: a parse says nothing of its schema check (src/validate/checkCache.ts keeps those)", async () => {
        const invalid = configMap("a", "v1").replace('value: "v1"', "value: 5");
        const dir = writeTree({ ...manifestTree(["a"], "v1"), "a.yaml": invalid });
        const cache = new CountingCache<ParsedContent>();
        for (const attempt of [1, 2]) await assert.rejects(validateTree(dir, { parseCache: parseOptions(cache) }), /a\.yaml: ConfigMap\/a: data\.value: must be string/, `attempt ${attempt}`);
        assert.ok(cache.hits > 0);
    });

    it("checks an unchanged custom resource again when the tree's CRD of its kind changed", async () => {
        const dir = writeTree({ "crd.yaml": widgetCrd([]), "widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n" });
        const cache = new CountingCache<ParsedContent>();
        await validateTree(dir, { parseCache: parseOptions(cache) });
        writeFileSync(path.join(dir, "crd.yaml"), widgetCrd(["size"]));
        await assert.rejects(validateTree(dir, { parseCache: parseOptions(cache) }), /widget\.yaml: Widget\/w: spec\.size: is required/);
    });

    it("keeps only what JSON gives back unchanged", () => {
        assert.equal(jsonSafe({ a: [1, "x", true, null, { b: 2.5 }] }), true);
        for (const value of [Infinity, NaN, -0, new Date(0), new Map(), new Uint8Array(1), undefined]) assert.equal(jsonSafe({ a: [value] }), false, String(value));
    });

    it("does not keep a file whose values JSON would change (.inf, .nan)", async () => {
        const dir = writeTree({ ...manifestTree(["a"], "v1"), "a.yaml": configMap("a", "v1").replace("data:", "data:\n  n: .inf\ndataa:") });
        const cache = new CountingCache<ParsedContent>();
        await validateTree(dir, { parseCache: parseOptions(cache) }).catch(() => undefined);
        assert.ok(!cache.entries.has(createHash("md5").update(readFileSync(path.join(dir, "a.yaml"))).digest("hex")));
    });
});
