import path from "node:path";
import type { ObjectChecker } from "./checkObject.ts";
import { isWholeObject } from "./compose.ts";
import { kustomizeBuild, type KustomizeBuildResult } from "./kustomize.ts";
import { isKustomizationFile, type LocalReference } from "./kustomizationFile.ts";
import type { Problem } from "./problems.ts";
import { loadSchemas } from "./schemas.ts";
import { parseYamlStream, type ParsedYamlFile } from "./yamlFiles.ts";

/** How problems in a kustomization.yaml name their object: it is kustomize's config, not a cluster object. */
export const KUSTOMIZATION_OBJECT = "Kustomization";

export interface KustomizationDir {
    dir: string;
    file: string;
    references: LocalReference[];
    /** It has no field but `resources` (and apiVersion and kind), all local: see composedObjects. */
    listsOnlyResources: boolean;
}

export interface BuildOptions {
    /** Directories Flux builds on their own (the spec.path of the tree's Bucket Kustomizations), absolute. */
    fluxTargets: string[];
    /** Checks the build output, skipping objects that passed already (source files kustomize did not change). */
    checker: ObjectChecker;
    /** Builds already under way (startRootBuilds); every build started is added to them. */
    started: StartedBuilds;
    /** The tree's parsed files other than kustomization files, by absolute path. */
    parsed: Map<string, ParsedYamlFile>;
}

export interface StartedBuilds {
    builds: Map<string, Promise<KustomizeBuildResult>>;
    /** Stops the builds started early that turn out not to be needed (their tree has a problem already). */
    unneeded: AbortController;
}

/** Once every build needed is done: stops the others, and waits for them, so that no kubectl outlives the validation. */
export async function stopBuilds(started: StartedBuilds): Promise<void> {
    started.unneeded.abort();
    await Promise.all(started.builds.values());
}

/**
 * Starts `kubectl kustomize` of the roots (the kustomizations no other one includes) before the tree
 * is checked, for buildKustomizations to use: a tree is usually clean, and then their builds are the
 * ones it needs.
 */
export function startRootBuilds(kustomizations: Map<string, KustomizationDir>): StartedBuilds {
    const unneeded = new AbortController();
    const needKustomize = entryPoints(kustomizations, []).filter((entry) => !onlyListsResources(entry, kustomizations, []));
    const builds = new Map(needKustomize.map(({ dir }) => [dir, kustomizeBuild(dir, unneeded.signal)]));
    return { builds, unneeded };
}

/** Whether it and every kustomization it includes only list resources (their files not looked at yet). */
function onlyListsResources(kustomization: KustomizationDir, kustomizations: Map<string, KustomizationDir>, chain: string[]): boolean {
    if (!kustomization.listsOnlyResources || chain.includes(kustomization.dir)) return false;
    return includes(kustomization, kustomizations).every((included) => onlyListsResources(included, kustomizations, [...chain, kustomization.dir]));
}

/**
 * Builds the tree's kustomizations and schema-checks each build's output (patches can break an object
 * that was valid in its own file); returns the problems found.
 *
 * Fast path: only the entry points are built, in parallel: the kustomizations no other kustomization
 * of the tree includes, and those a Flux Kustomization builds on its own. A kustomization builds its
 * included directories as part of itself, so a clean build of an entry point covers them as Flux
 * uses them. Only when an entry point does not build clean, or an input of it already has a problem,
 * is every kustomization it reaches built on its own, dependencies first, and a kustomization with a
 * broken input not built at all: a mistake is then reported once, where it is, and not again from
 * each kustomization that includes it.
 */
export async function buildKustomizations(kustomizations: Map<string, KustomizationDir>, found: Problem[], options: BuildOptions): Promise<Problem[]> {
    const tree = new TreeBuild(kustomizations, found, options);
    await Promise.all(
        entryPoints(kustomizations, options.fluxTargets).map(async (entry) => {
            if ((await tree.cleanSoFar(entry, [])) && (await tree.buildAndCheck(entry)).length === 0) return;
            const reached = reachable(entry, kustomizations);
            await Promise.all([...kustomizations.values()].filter(({ dir }) => reached.has(dir)).map((kustomization) => tree.isClean(kustomization, [])));
        }),
    );
    return tree.problems;
}

/** The builds of one tree: each answer (clean so far, built clean, a build's problems) computed once per directory. */
class TreeBuild {
    readonly problems: Problem[] = [];
    private readonly kustomizations: Map<string, KustomizationDir>;
    private readonly options: BuildOptions;
    private readonly brokenFiles: Set<string>;
    /** A directory whose kustomization.yaml does not even parse is not in `kustomizations`. */
    private readonly brokenDirs: Set<string>;
    private readonly inputResults = new Map<string, Promise<boolean>>();
    private readonly results = new Map<string, Promise<boolean>>();
    private readonly builds = new Map<string, Promise<Problem[]>>();

    constructor(kustomizations: Map<string, KustomizationDir>, found: Problem[], options: BuildOptions) {
        this.kustomizations = kustomizations;
        this.options = options;
        this.brokenFiles = new Set(found.map((problem) => problem.file));
        this.brokenDirs = new Set([...this.brokenFiles].filter(isKustomizationFile).map((file) => path.dirname(file)));
    }

    /** No problem found so far in anything the kustomization reads, its included kustomizations' files included. */
    cleanSoFar(kustomization: KustomizationDir, chain: string[]): Promise<boolean> {
        return once(this.inputResults, kustomization.dir, () =>
            this.inputsClean(kustomization, [...chain, kustomization.dir], (dependency, next) => this.cleanSoFar(dependency, next)),
        );
    }

    /** Builds it alone once its inputs and the kustomizations it includes are clean (built clean themselves); reports its own problems. */
    isClean(kustomization: KustomizationDir, chain: string[]): Promise<boolean> {
        return once(this.results, kustomization.dir, async () => {
            if (!(await this.inputsClean(kustomization, [...chain, kustomization.dir], (dependency, next) => this.isClean(dependency, next)))) return false;
            const buildProblems = await this.buildAndCheck(kustomization);
            this.problems.push(...buildProblems);
            return buildProblems.length === 0;
        });
    }

    /** The problems of one build and its output; each kustomization is built and checked at most once. */
    buildAndCheck(kustomization: KustomizationDir): Promise<Problem[]> {
        return once(this.builds, kustomization.dir, async () => {
            // Its build would be the tree's own objects, which were checked as the files they are in.
            if (composedObjects(kustomization, this.kustomizations, this.options.parsed)) return [];
            const built = await once(this.options.started.builds, kustomization.dir, () => kustomizeBuild(kustomization.dir));
            if (!built.ok) return [{ file: kustomization.file, object: KUSTOMIZATION_OBJECT, field: "", message: `kustomize build failed: ${built.error}` }];
            const output = parseYamlStream(built.yaml);
            await loadSchemas(output);
            const outputProblems = output.flatMap((object) => this.options.checker.check(kustomization.file, object));
            return outputProblems.map((problem) => ({ ...problem, message: `${problem.message} in the kustomize build output` }));
        });
    }

    /** Whether a kustomization's file and what it references have no problem; `dependencyClean` judges the kustomizations it includes. */
    private async inputsClean(
        kustomization: KustomizationDir,
        chain: string[],
        dependencyClean: (dependency: KustomizationDir, chain: string[]) => Promise<boolean>,
    ): Promise<boolean> {
        if (this.brokenFiles.has(kustomization.file)) return false;
        for (const { target } of kustomization.references) {
            if (this.brokenFiles.has(target) || this.brokenDirs.has(target)) return false;
            const dependency = this.kustomizations.get(target);
            // A cycle is left for kustomize to report.
            if (dependency && !chain.includes(target) && !(await dependencyClean(dependency, chain))) return false;
        }
        return true;
    }
}

/**
 * What kustomize's build of a kustomization would be, without running it, where that is certain: when it and
 * every kustomization it includes only list local resources (listsOnlyResources), every file they list holds
 * plain YAML (no anchor, alias, tag or merge key) and whole objects (no List, no kustomize config), and no two
 * objects share a kind and name. kustomize then outputs exactly those objects (in its own order): it adds nothing
 * and changes nothing. Anything else, including a duplicate that kustomize would refuse or accept, is undefined:
 * kustomize builds it. tests/validate/composedBuild.test.ts compares this with `kubectl kustomize` on generated trees.
 */
export function composedObjects(
    kustomization: KustomizationDir,
    kustomizations: Map<string, KustomizationDir>,
    parsed: Map<string, ParsedYamlFile>,
): Record<string, unknown>[] | undefined {
    return composedWithFiles(kustomization, kustomizations, parsed)?.map(({ object }) => object);
}

/** composedObjects with the file each object is in. */
export function composedWithFiles(
    kustomization: KustomizationDir,
    kustomizations: Map<string, KustomizationDir>,
    parsed: Map<string, ParsedYamlFile>,
): { object: Record<string, unknown>; file: string }[] | undefined {
    const objects = collectObjects(kustomization, kustomizations, parsed, []);
    if (!objects) return undefined;
    const ids = new Set<string>();
    for (const { object } of objects) {
        const id = `${object.kind}/${(object.metadata as { name: string }).name}`;
        if (ids.has(id)) return undefined;
        ids.add(id);
    }
    return objects;
}

function collectObjects(
    kustomization: KustomizationDir,
    kustomizations: Map<string, KustomizationDir>,
    parsed: Map<string, ParsedYamlFile>,
    chain: string[],
): { object: Record<string, unknown>; file: string }[] | undefined {
    if (!kustomization.listsOnlyResources || chain.includes(kustomization.dir)) return undefined;
    const objects: { object: Record<string, unknown>; file: string }[] = [];
    for (const { target } of kustomization.references) {
        const included = kustomizations.get(target);
        const file = parsed.get(target);
        const found = included
            ? collectObjects(included, kustomizations, parsed, [...chain, kustomization.dir])
            : file && file.plain && file.problems.length === 0 && file.documents.every(isWholeObject)
              ? (file.documents as Record<string, unknown>[]).map((object) => ({ object, file: target }))
              : undefined;
        if (!found) return undefined;
        objects.push(...found);
    }
    return objects;
}

/**
 * The kustomizations built first: those no kustomization of the tree includes, those Flux builds on
 * their own, and, since a cycle of includes has no such root, the first of each group nothing else reaches.
 */
export function entryPoints(kustomizations: Map<string, KustomizationDir>, fluxTargets: string[]): KustomizationDir[] {
    const all = [...kustomizations.values()];
    const included = new Set(all.flatMap((kustomization) => includes(kustomization, kustomizations)).map(({ dir }) => dir));
    const entries = all.filter(({ dir }) => !included.has(dir) || fluxTargets.includes(dir));
    const reached = new Set<string>();
    for (const entry of entries) reachable(entry, kustomizations, reached);
    for (const kustomization of all) {
        if (reached.has(kustomization.dir)) continue;
        entries.push(kustomization);
        reachable(kustomization, kustomizations, reached);
    }
    return entries;
}

function includes(kustomization: KustomizationDir, kustomizations: Map<string, KustomizationDir>): KustomizationDir[] {
    return kustomization.references.flatMap(({ target }) => kustomizations.get(target) ?? []);
}

/** The directories of `from` and of every kustomization it includes, directly or not (added to `reached`). */
function reachable(from: KustomizationDir, kustomizations: Map<string, KustomizationDir>, reached = new Set<string>()): Set<string> {
    if (reached.has(from.dir)) return reached;
    reached.add(from.dir);
    for (const included of includes(from, kustomizations)) reachable(included, kustomizations, reached);
    return reached;
}

/** The value cached under key, or compute()'s, cached: a promise is cached as it starts, so its callers share one run. */
export function once<K, T>(cache: Map<K, T>, key: K, compute: () => T): T {
    if (cache.has(key)) return cache.get(key)!;
    const result = compute();
    cache.set(key, result);
    return result;
}
