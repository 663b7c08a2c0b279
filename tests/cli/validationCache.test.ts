import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bucketops, md5 } from "./helpers/cli.ts";
import { EntryCache, ValidationCache } from "../../src/cli/validationCache.ts";
import { Moto } from "../support/moto.ts";
import { configMap, manifestTree, writeTree } from "../support/trees.ts";

describe("push's validation cache: a tree whose exact content passed is not validated again (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    const scratch = writeTree({});
    const builds = path.join(scratch, "kubectl.log");
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await moto.createBucket("cached");
        // A kubectl that logs each build before running the real one: the log says whether validation ran.
        const wrapper = path.join(scratch, "kubectl");
        writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${builds}\nexec kubectl "$@"\n`);
        chmodSync(wrapper, 0o755);
        process.env.KUBECTL = wrapper;
        process.env.BUCKETOPS_CACHE_DIR = path.join(scratch, "cache");
    });
    after(() => {
        delete process.env.KUBECTL;
        moto?.stop();
    });
    const buildCount = () => (existsSync(builds) ? readFileSync(builds, "utf8").trim().split("\n").length : 0);

    it("skips an unchanged tree, validates a changed one, and never remembers a failure", async () => {
        // An annotation transformer, so that validation runs kustomize (resources, a namespace, labels, ConfigMap
        // generators and patches of custom resources are composed without it: src/validate/compose.ts).
        const tree = manifestTree(["a", "b"], "v1");
        const dir = writeTree({ ...tree, "kustomization.yaml": `${tree["kustomization.yaml"]}commonAnnotations:\n  team: apps\n` });
        const first = await bucketops("push", dir, "s3://cached/app", ...endpoint);
        assert.equal(first.code, 0, first.err);
        assert.match(first.out, /^validated 3 file\(s\) in \S+$/m);
        const afterFirst = buildCount();
        assert.ok(afterFirst >= 1);

        const again = await bucketops("push", dir, "s3://cached/app", ...endpoint);
        assert.equal(again.code, 0, again.err);
        assert.match(again.out, /^validated 3 file\(s\) in \S+: the same content passed before \(validation cache; --revalidate runs it again\)$/m);
        assert.equal(buildCount(), afterFirst, "no kustomize build for a tree that passed");

        // Another prefix is another validation (Flux paths are checked against it), but its kustomize build reads the same
        // files: the build kept by them answers (src/validate/buildCache.ts). --revalidate uses no cache at all.
        assert.equal((await bucketops("push", dir, "s3://cached/other", ...endpoint)).code, 0);
        assert.equal(buildCount(), afterFirst);
        assert.equal((await bucketops("push", dir, "s3://cached/app", ...endpoint, "--revalidate")).code, 0);
        assert.equal(buildCount(), afterFirst + 1);

        // One changed byte: validated again, built again (the build reads b.yaml), and a broken file is reported every time.
        writeFileSync(path.join(dir, "b.yaml"), configMap("b", "v2"));
        const changed = await bucketops("push", dir, "s3://cached/app", ...endpoint);
        assert.match(changed.out, /^validated 3 file\(s\) in \S+$/m);
        assert.equal(buildCount(), afterFirst + 2);
        // Each file's parse is kept by content (tests/validate/parseCache.test.ts), and each object's schema check that
        // passed (tests/validate/checkCache.test.ts): the next change parses and checks what changed.
        const contents = new Map(treeEntries(path.join(scratch, "cache"), "parsed"));
        assert.ok(contents.has(md5(configMap("b", "v2"))) && contents.has(md5(tree["a.yaml"])));
        const passes = treeEntries(path.join(scratch, "cache"), "checked") as [string, unknown[]][];
        assert.equal(passes.length, 3, "a and b as built (annotated), then b (v2): each kept with no warning");
        assert.ok(passes.every(([, warnings]) => warnings.length === 0));
        writeFileSync(path.join(dir, "b.yaml"), "kind: [\n");
        for (const attempt of [1, 2]) {
            const broken = await bucketops("push", dir, "s3://cached/app", ...endpoint);
            assert.equal(broken.code, 1, `attempt ${attempt}`);
            assert.match(broken.err, /b\.yaml/);
        }
    });
});

describe("the per-tree caches: a run reads what its own tree left (moto_server)", () => {
    let moto: Moto;
    const cache = writeTree({});
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("trees");
        process.env.BUCKETOPS_CACHE_DIR = cache;
    });
    after(() => moto?.stop());

    it("keeps each tree's parses and checks in a file of its own, about the tree's size however often it is edited", async () => {
        // A large tree validated first, then a small one edited four times, as a user pushes several repositories.
        const large = writeTree(manifestTree(Array.from({ length: 40 }, (_, i) => `large-${i}`), "v1"));
        const small = writeTree(manifestTree(["a", "b"], "v1"));
        const push = async (dir: string, prefix: string) => {
            const run = await bucketops("push", dir, `s3://trees/${prefix}`, "--endpoint", moto.endpoint);
            assert.equal(run.code, 0, run.err);
        };
        await push(large, "large");
        await push(small, "small");
        for (const version of ["v2", "v3", "v4", "v5"]) {
            writeFileSync(path.join(small, "b.yaml"), configMap("b", version));
            await push(small, "small");
        }
        for (const kind of ["parsed", "checked"]) {
            const files = readdirSync(path.join(cache, kind), { recursive: true }).filter((name) => String(name).endsWith(".json"));
            assert.equal(files.length, 2, `${kind}: a file per tree`);
        }
        // The small tree's file: its three files as they are (the kustomization, a, b v5) and, of what its edits
        // replaced, the newest, as many again (b v2 to v4): nothing of the large tree, and not every version of b.
        const parsed = treeEntries(cache, "parsed", small);
        const keys = new Set(parsed.map(([key]) => key));
        assert.ok(keys.has(md5(configMap("b", "v5"))) && keys.has(md5(configMap("a", "a-v1"))), "the tree as it is now");
        assert.ok(keys.has(md5(configMap("b", "v4"))), "the version the last edit replaced");
        assert.ok(!keys.has(md5(configMap("b", "b-v1"))), "the oldest version is gone");
        assert.ok(parsed.length <= 6, `${parsed.length} parses kept for a 3-file tree`);
        assert.ok(!keys.has(md5(configMap("large-0", "large-0-v1"))), "nothing of the other tree");
        assert.equal(treeEntries(cache, "parsed", large).length, 41, "the large tree's file is its own: 40 ConfigMaps and its kustomization");
    });

    it("keeps the files of the trees validated last (EntryCache's trees)", async () => {
        const folder = writeTree({});
        for (const tree of ["one", "two", "three"]) {
            const entries = new EntryCache<string>(path.join(folder, `${tree}.json`), 10, 2);
            entries.set("key", tree);
            await entries.save();
            await new Promise((resolve) => setTimeout(resolve, 20)); // modification times a clock step apart
        }
        assert.deepEqual(readdirSync(folder).sort(), ["three.json", "two.json"]);
        // A run that stopped short of its tree (a failed validation) keeps what it did not reach.
        const kept = new EntryCache<string>(path.join(folder, "two.json"), 10, 2);
        assert.equal(kept.get("key"), "two");
        const partial = new EntryCache<string>(path.join(folder, "three.json"), 10, 2);
        partial.set("other", "x");
        await partial.save(false);
        assert.equal(new EntryCache<string>(path.join(folder, "three.json")).get("key"), "three");
    });
});

/** The entries of a per-tree cache (`<kind>/<validator identity>/<tree>.json`): the tree at `dir`, or the only one. */
function treeEntries(cache: string, kind: string, dir?: string): [string, unknown][] {
    const files = (readdirSync(path.join(cache, kind), { recursive: true }) as string[]).filter((name) => name.endsWith(".json"));
    const name = dir === undefined ? files[0] : files.find((file) => file.endsWith(`${createHash("sha256").update(realpathSync(dir)).digest("hex").slice(0, 32)}.json`));
    assert.ok(name !== undefined && (dir !== undefined || files.length === 1), `${kind}: ${files.join(", ")}`);
    return JSON.parse(readFileSync(path.join(cache, kind, name), "utf8")) as [string, unknown][];
}

describe("the kept schema checks' context (ValidationCache.checked)", () => {
    const contextOf = (cacheDir: string, checks: object, env: Record<string, string> = {}) => {
        // A process of its own: the validator's identity is worked out once per process.
        const script = `import { ValidationCache } from ${JSON.stringify(path.resolve(import.meta.dirname, "../../src/cli/validationCache.ts"))};
            console.log(new ValidationCache(${JSON.stringify(cacheDir)}).checked(".", ${JSON.stringify(checks)}).context);`;
        const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env }, encoding: "utf8" });
        assert.equal(child.status, 0, child.stderr);
        return child.stdout.trim();
    };

    it("changes with the validator's identity (here: another kubectl) and with a file of a --schema-location", () => {
        const cacheDir = writeTree({});
        const schemas = writeTree({ "widget-example-v1.json": JSON.stringify({ type: "object" }) });
        const plain = contextOf(cacheDir, {});
        assert.equal(contextOf(cacheDir, {}), plain, "the same validator, the same context");
        assert.notEqual(contextOf(cacheDir, {}, { KUBECTL: "/bin/true" }), plain);
        const located = contextOf(cacheDir, { schemaLocations: [schemas] });
        assert.notEqual(located, plain);
        writeFileSync(path.join(schemas, "widget-example-v1.json"), JSON.stringify({ type: "object", required: ["spec"] }));
        assert.notEqual(contextOf(cacheDir, { schemaLocations: [schemas] }), located, "the schema file changed");
    });
});

describe("what the cache keeps is bounded", () => {
    /** A file at `file` written `age` seconds ago. */
    const aged = (file: string, age: number) => {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, "");
        const time = Date.now() / 1000 - age;
        utimesSync(file, time, time);
    };

    it("keeps the newest passes of a folder of validated/ once it holds more than 64, and another run's file being written", async () => {
        const dir = writeTree({});
        const folder = path.join(dir, "validated", "ab");
        const keys = Array.from({ length: 63 }, (_, index) => `ab${String(index).padStart(62, "0")}`);
        keys.forEach((key, index) => aged(path.join(folder, key), 1000 - index)); // keys[62] the newest
        aged(path.join(folder, `${keys[0]}.1234.tmp`), 2000); // another run's, not yet renamed
        const cache = new ValidationCache(dir);
        await cache.remember(`ab${"f".repeat(62)}`);
        assert.equal(readdirSync(folder).length, 63 + 1 + 1, "63 passes and the new one: not over 64, nothing goes");
        await cache.remember(`ab${"e".repeat(62)}`);
        const left = readdirSync(folder);
        assert.equal(left.filter((name) => !name.endsWith(".tmp")).length, 48, "down to 48 once over 64");
        assert.ok(left.includes(`${keys[0]}.1234.tmp`), "a file being written stays");
        assert.ok(cache.passed(`ab${"e".repeat(62)}`) && cache.passed(`ab${"f".repeat(62)}`), "the new passes stay");
        assert.ok(cache.passed(keys[62]) && cache.passed(keys[17]), "so do the 46 newest before them");
        assert.ok(!cache.passed(keys[16]) && !cache.passed(keys[0]), "the oldest went");
    });

    it("keeps the per-identity caches of this validator and of the two others written last", async () => {
        const dir = writeTree({});
        const tree = writeTree({ "a.yaml": configMap("a", "v1") });
        const others = ["one", "two", "three", "four"]; // "four" written last
        for (const kind of ["parsed", "builds"]) others.forEach((name, index) => aged(path.join(dir, kind, name, "x.json"), 1000 - index));
        // Each file written makes its folder newer: the folders' own times are what count.
        for (const kind of ["parsed", "builds"]) others.forEach((name, index) => utimesSync(path.join(dir, kind, name), Date.now() / 1000 - 1000 + index, Date.now() / 1000 - 1000 + index));
        const cache = new ValidationCache(dir);
        const contents = cache.contents(tree);
        contents.set("key", { documents: [] } as never);
        await contents.save();
        const builds = cache.builds();
        builds.set("key", {} as never);
        await builds.save();
        for (const kind of ["parsed", "builds"]) {
            const left = readdirSync(path.join(dir, kind)).sort();
            assert.equal(left.length, 3, `${kind}: ${left.join(", ")}`);
            assert.deepEqual(left.filter((name) => others.includes(name)), ["four", "three"], `${kind}: the two written last`);
        }
        // A cache that was not written leaves the others alone (a run that read only).
        const kept = writeTree({});
        others.forEach((name) => aged(path.join(kept, "parsed", name, "x.json"), 10));
        const reader = new ValidationCache(kept).contents(tree);
        reader.get("key");
        await reader.save();
        assert.equal(readdirSync(path.join(kept, "parsed")).length, 4);
    });
});
