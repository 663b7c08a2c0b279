import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { KeptWarning } from "../../src/validate/checkCache.ts";
import { ManifestValidationError, validateTree } from "../../src/validate/index.ts";
import { CountingCache } from "../support/countingCache.ts";
import { configMap, widgetCrd, writeTree } from "../support/trees.ts";

const widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec: {size: 3}\n";
const deployment = (replicas: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n`;

/** A tree of files on their own (no kustomization): each document is checked as it is. */
const files = () => ({ "a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1"), "crd.yaml": widgetCrd([]), "widget.yaml": widget });

const errorOf = (run: Promise<unknown>) => run.then(() => "passed", (error: ManifestValidationError) => error.message);

describe("validateTree with kept checks (src/validate/checkCache.ts: what push keeps between runs)", () => {
    it("answers for an unchanged object and checks a changed one, with the outcome of a check without it", async () => {
        const dir = writeTree(files());
        const cache = new CountingCache<KeptWarning[]>();
        const validate = (context = "validator-1") => validateTree(dir, { checked: { cache, context } });
        await validate();
        assert.equal(cache.sets.length, 4, "two ConfigMaps, the CRD and the Widget passed: each is kept");

        cache.reset();
        await validate();
        assert.deepEqual([cache.sets.length, cache.keysAnswered], [0, 4], "nothing is checked again");

        writeFileSync(path.join(dir, "b.yaml"), configMap("b", "2"));
        cache.reset();
        await validate();
        assert.deepEqual([cache.sets.length, cache.keysAnswered], [1, 3], "the changed ConfigMap only");

        // Another validator (its code or schema packages: the context) answers for nothing it did not check.
        cache.reset();
        await validate("validator-2");
        assert.deepEqual([cache.sets.length, cache.keysAnswered], [4, 0]);
    });

    it("checks the custom resources of a CRD the tree changed again, and only those", async () => {
        const dir = writeTree(files());
        const cache = new CountingCache<KeptWarning[]>();
        await validateTree(dir, { checked: { cache, context: "v" } });
        // The Widget now lacks a field its CRD requires: refused, as without the cache.
        writeFileSync(path.join(dir, "crd.yaml"), widgetCrd(["colour"]));
        cache.reset();
        const withCache = await errorOf(validateTree(dir, { checked: { cache, context: "v" } }));
        assert.equal(withCache, await errorOf(validateTree(dir)));
        assert.match(withCache, /widget\.yaml: Widget\/w: spec\.colour: is required/);
        assert.equal(cache.keysAnswered, 2, "the ConfigMaps are answered; the CRD (changed) and the Widget (its CRD changed) are checked");
        assert.equal(cache.sets.length, 1, "the new CRD passed; the Widget failed and is not kept");

        // A CRD of another group (added to the tree) changes nothing for the Widget.
        writeFileSync(path.join(dir, "crd.yaml"), widgetCrd([]));
        await validateTree(dir, { checked: { cache, context: "v" } });
        writeFileSync(path.join(dir, "other.yaml"), widgetCrd([]).replaceAll("example.com", "example.org"));
        cache.reset();
        await validateTree(dir, { checked: { cache, context: "v" } });
        assert.deepEqual([cache.sets.length, cache.keysAnswered], [1, 4], "only the new CRD is checked");
    });

    it("never keeps a failure: a broken object is checked and reported every time", async () => {
        const dir = writeTree({ ...files(), "b.yaml": configMap("b", "1").replace('value: "1"', "value: 5") });
        const cache = new CountingCache<KeptWarning[]>();
        for (const attempt of [1, 2]) {
            cache.reset();
            assert.match(await errorOf(validateTree(dir, { checked: { cache, context: "v" } })), /b\.yaml: ConfigMap\/b: data\.value: must be string \(got 5\)/, `attempt ${attempt}`);
        }
        assert.equal(cache.entries.size, 3);
        assert.equal(cache.keysAnswered, 3);
    });

    it("gives a kept check's warnings again as they were, and refuses an unknown kind with strict though it passed without", async () => {
        const tree = { ...files(), "gadget.yaml": "apiVersion: example.net/v1\nkind: Gadget\nmetadata: {name: g}\n", "web.yaml": deployment("${REPLICAS}") };
        const dir = writeTree(tree);
        const cache = new CountingCache<KeptWarning[]>();
        const first = await validateTree(dir, { checked: { cache, context: "v" } });
        assert.deepEqual(
            first.warnings.map(({ object, field }) => `${object} ${field}`),
            ["Gadget/g apiVersion", "Deployment/web spec.replicas"],
            "a kind no schema knows; a ${VAR} no postBuild sets",
        );
        writeFileSync(path.join(dir, "a.yaml"), configMap("a", "2"));
        cache.reset();
        const again = await validateTree(dir, { checked: { cache, context: "v" } });
        assert.equal(cache.keysAnswered, 5);
        assert.deepEqual(again, first);
        assert.deepEqual(again, await validateTree(dir), "as a validation without the cache says");

        cache.reset();
        assert.match(await errorOf(validateTree(dir, { strict: true, checked: { cache, context: "v" } })), /gadget\.yaml: Gadget\/g: apiVersion: no schema for Gadget/);
        assert.equal(cache.keysAnswered, 0, "--strict is another check of every object");
    });

    it("keys a built object as Flux applies it: a changed postBuild variable checks it again", async () => {
        const flux = (replicas: string) =>
            `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  interval: 10m\n  prune: true\n  path: ./apps\n  sourceRef: {kind: Bucket, name: flux-bucket}\n  postBuild: {substitute: {REPLICAS: "${replicas}"}}\n`;
        const dir = writeTree({ "clusters/dev/apps.yaml": flux("2"), "apps/web.yaml": deployment("${REPLICAS}") });
        const cache = new CountingCache<KeptWarning[]>();
        const validate = () => validateTree(dir, { rootPath: "./clusters/dev", checked: { cache, context: "v" } });
        assert.deepEqual((await validate()).warnings, []);
        cache.reset();
        await validate();
        assert.equal(cache.sets.length, 0);
        writeFileSync(path.join(dir, "clusters/dev/apps.yaml"), flux("two"));
        assert.match(await errorOf(validate()), /Deployment\/web: spec\.replicas: must be integer \(got "two"\) after postBuild substitution/);
    });

    it("loads no model for a kind whose every object's check is kept (a fresh process)", async () => {
        const dir = writeTree({ "web.yaml": deployment("2"), "a.yaml": configMap("a", "1") });
        const script = (tree: string) => `
            import { validateTree } from ${JSON.stringify(path.resolve(import.meta.dirname, "../../src/validate/tree.ts"))};
            import { typeLoaded } from ${JSON.stringify(path.resolve(import.meta.dirname, "../../src/validate/schemas.ts"))};
            const entries = new Map(JSON.parse(process.env.ENTRIES));
            await validateTree(${JSON.stringify(tree)}, { checked: { cache: { get: (k) => entries.get(k), set: (k, v) => entries.set(k, v) }, context: "v" } });
            console.log(JSON.stringify({ entries: [...entries], deployment: typeLoaded({ apiVersion: "apps/v1", kind: "Deployment" }), configMap: typeLoaded({ apiVersion: "v1", kind: "ConfigMap" }) }));`;
        const run = (entries: unknown[]) => {
            const child = spawnSync(process.execPath, ["--input-type=module", "-e", script(dir)], { env: { ...process.env, ENTRIES: JSON.stringify(entries) }, encoding: "utf8" });
            assert.equal(child.status, 0, child.stderr);
            return JSON.parse(child.stdout) as { entries: unknown[]; deployment: boolean; configMap: boolean };
        };
        const cold = run([]);
        assert.deepEqual([cold.deployment, cold.configMap], [true, true]);
        writeFileSync(path.join(dir, "a.yaml"), configMap("a", "2"));
        const warm = run(cold.entries);
        assert.deepEqual([warm.deployment, warm.configMap], [false, true], "the Deployment's check is kept; the changed ConfigMap is checked");
    });
});
