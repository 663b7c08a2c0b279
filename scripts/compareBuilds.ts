// Proof that src/validate/compose.ts is what kubectl kustomize builds: for every kustomization of a tree (as it is,
// and under a Flux targetNamespace), and for every folder without a kustomization file as Flux's generator lists
// it (as it is, and under a targetNamespace), and for every Flux Kustomization with spec.patches or spec.components
// (its path under them and its targetNamespace, as the overlay fluxTree.ts builds), the composed build, where composeBuild gives one, is compared with
// `kubectl kustomize --load-restrictor=LoadRestrictionsNone` of the same (objects as a multiset, canonical JSON).
// Remote references are compared as validation offline builds them: composed with them left out (omitRemote), and
// built by kubectl in a copy of the tree whose kustomization files have them removed (fluxTree.ts, withoutRemote).
// Used by `node scripts/validationCorpus.ts compare-builds <dir-of-trees>` and tests/validate/composedBuild.test.ts.
// Run it where nothing can leave the machine (unshare -n).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import pLimit from "p-limit";
import { stringify } from "yaml";
import { composeBuild } from "../src/validate/compose.ts";
import { treeFolder } from "../src/validate/fluxPath.ts";
import { isRecord } from "../src/validate/problems.ts";
import { generatedResources, withoutRemote } from "../src/validate/fluxTree.ts";
import { isKustomizationFile, KUSTOMIZATION_FILE_NAMES } from "../src/validate/kustomizationFile.ts";
import { readKustomizations } from "../src/validate/tree.ts";
import { listYamlFiles, parseYamlFile, parseYamlStream } from "../src/validate/yamlFiles.ts";

export interface Comparison {
    /** Builds composed in-process and compared with kubectl's. */
    composed: number;
    /** Builds composeBuild leaves to kustomize. */
    declined: number;
    /** Where the two differ (or kubectl fails where a build was composed): must be empty. */
    mismatches: string[];
}

/** A namespace no tree uses, for the targetNamespace cases. */
const TARGET = "bucketops-compare";

export async function compareTree(root: string): Promise<Comparison> {
    root = path.resolve(root);
    const files = await listYamlFiles(root);
    const parsedFiles = await Promise.all(files.map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const parsed = new Map(parsedFiles.map((file) => [file.file, file]));
    const sources = { kustomizations, parsed, omitRemote: true };
    const work = await mkdtemp(path.join(tmpdir(), "bucketops-compare-"));
    // Where kubectl builds: the tree itself, or, where a kustomization has a remote reference, a copy without them.
    const rewrites = [...kustomizations.values()].flatMap(({ file }) => {
        const document = parsed.get(file)?.documents[0];
        if (!isRecord(document)) return [];
        const { kept, remote } = withoutRemote(document);
        return remote.length > 0 ? [{ file, text: stringify(kept) }] : [];
    });
    const buildRoot = rewrites.length > 0 ? path.join(work, "tree") : root;
    if (rewrites.length > 0) {
        await cp(root, buildRoot, { recursive: true });
        for (const { file, text } of rewrites) await writeFile(path.join(buildRoot, path.relative(root, file)), text);
    }
    const mirror = (file: string) => path.join(buildRoot, path.relative(root, file));
    const limit = pLimit(availableParallelism());
    const result: Comparison = { composed: 0, declined: 0, mismatches: [] };
    let overlays = 0;
    const cases: { dir: string; generated?: string[]; targetNamespace?: string; patches?: unknown[]; components?: string[] }[] = [];
    for (const dir of kustomizations.keys()) cases.push({ dir }, { dir, targetNamespace: TARGET });
    const plainFolders = new Set(files.map((file) => path.dirname(file)).filter((dir) => !KUSTOMIZATION_FILE_NAMES.some((name) => parsed.has(path.join(dir, name)))));
    for (const dir of plainFolders) {
        if (KUSTOMIZATION_FILE_NAMES.some((name) => files.includes(path.join(dir, name)))) continue;
        const generated = await generatedResources(dir);
        cases.push({ dir, generated }, { dir, generated, targetNamespace: TARGET });
    }
    // Each Flux Kustomization of the tree with spec.patches or spec.components: its path's build under them (and its
    // targetNamespace), as fluxTree.ts's overlay builds it.
    for (const document of parsedFiles.flatMap((file) => file.documents)) {
        if (!isRecord(document) || document.kind !== "Kustomization" || !String(document.apiVersion).startsWith("kustomize.toolkit.fluxcd.io/")) continue;
        const spec = isRecord(document.spec) ? document.spec : {};
        const patches = Array.isArray(spec.patches) && spec.patches.length > 0 ? spec.patches : undefined;
        const components = Array.isArray(spec.components) && spec.components.length > 0 && spec.components.every((c) => typeof c === "string") ? (spec.components as string[]) : undefined;
        if ((!patches && !components) || spec.ignoreMissingComponents !== undefined || typeof spec.path !== "string" || spec.path.includes("$")) continue;
        const folder = treeFolder(spec.path, "");
        if (folder === undefined || !existsSync(path.join(root, folder))) continue;
        const dir = path.join(root, folder);
        const generated = kustomizations.has(dir) || KUSTOMIZATION_FILE_NAMES.some((name) => existsSync(path.join(dir, name))) ? undefined : await generatedResources(dir);
        const targetNamespace = typeof spec.targetNamespace === "string" ? spec.targetNamespace : undefined;
        cases.push({ dir, generated, targetNamespace, patches, components });
    }
    try {
        await Promise.all(
            cases.map(async ({ dir, generated, targetNamespace, patches, components }) => {
                const ours = await composeBuild(dir, sources, { generated, targetNamespace, patches, components });
                if (!ours) {
                    result.declined++;
                    return;
                }
                result.composed++;
                const where = `${path.relative(root, dir) || "."}${generated ? " (generated)" : ""}${targetNamespace ? ` (targetNamespace)` : ""}${patches ? " (Flux patches)" : ""}${components ? " (Flux components)" : ""}`;
                let built = mirror(dir);
                if (generated || targetNamespace || patches || components) {
                    built = path.join(work, String(overlays++));
                    await mkdir(built, { recursive: true });
                    const resources = generated ? generated.map((resource) => path.relative(built, mirror(resource))) : [path.relative(built, mirror(dir))];
                    const overlay = {
                        ...(targetNamespace ? { namespace: targetNamespace } : {}),
                        resources,
                        ...(patches ? { patches: patches.filter(isRecord).map(({ patch, target }) => ({ patch, target })) } : {}),
                        ...(components ? { components: components.map((component) => path.relative(built, mirror(path.resolve(dir, component)))) } : {}),
                    };
                    await writeFile(path.join(built, "kustomization.yaml"), stringify(overlay));
                }
                const theirs = await limit(() => kubectlKustomize(built));
                if (!theirs.ok) {
                    result.mismatches.push(`${where}: composed, but kubectl kustomize fails: ${theirs.error}`);
                    return;
                }
                const a = canonical(ours.map(({ object }) => object));
                const b = canonical(theirs.objects);
                if (JSON.stringify(a) !== JSON.stringify(b)) {
                    const onlyOurs = a.filter((object) => !b.includes(object)).slice(0, 2);
                    const onlyTheirs = b.filter((object) => !a.includes(object)).slice(0, 2);
                    result.mismatches.push(`${where}: composed ${a.length} objects, kubectl ${b.length}; only composed: ${onlyOurs.join(" ")}; only kubectl: ${onlyTheirs.join(" ")}`);
                }
            }),
        );
    } finally {
        await rm(work, { recursive: true, force: true });
    }
    return result;
}

/** Each object as a canonical JSON string (keys sorted), sorted: the build as a multiset, whatever its order. */
export function canonical(objects: unknown[]): string[] {
    const sortKeys = (value: unknown): unknown =>
        Array.isArray(value)
            ? value.map(sortKeys)
            : value && typeof value === "object"
              ? Object.fromEntries(
                    Object.entries(value)
                        .sort(([a], [b]) => (a < b ? -1 : 1))
                        .map(([k, v]) => [k, sortKeys(v)]),
                )
              : value;
    return objects.map((object) => JSON.stringify(sortKeys(object))).sort();
}

function kubectlKustomize(dir: string): Promise<{ ok: true; objects: unknown[] } | { ok: false; error: string }> {
    return new Promise((resolve) => {
        execFile("kubectl", ["kustomize", "--load-restrictor=LoadRestrictionsNone", dir], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
            if (error) resolve({ ok: false, error: (stderr || error.message).trim().split("\n")[0] });
            else resolve({ ok: true, objects: parseYamlStream(stdout) });
        });
    });
}
