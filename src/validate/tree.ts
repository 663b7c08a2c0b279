import path from "node:path";
import { buildKustomizations, entryPoints, KUSTOMIZATION_OBJECT, startRootBuilds, stopBuilds, type KustomizationDir } from "./builds.ts";
import type { BuildCache } from "./buildCache.ts";
import { CheckKeys, type KeptChecks } from "./checkCache.ts";
import { ObjectChecker } from "./checkObject.ts";
import { compareKeys, normalizePrefix, prefixSubstitution } from "../bucket/keys.ts";
import { mapBounded } from "../fs/bounded.ts";
import { bucketKustomizationPath, fluxPathProblem, treeFolder, withPrefixVariable } from "./fluxPath.ts";
import { isKustomizationFile, KUSTOMIZATION_FILE_NAMES, localReferences, type LocalReference } from "./kustomizationFile.ts";
import { isInside, pathKind } from "./paths.ts";
import { isRecord, objectLabel, throwIfAny, type Problem } from "./problems.ts";
import { loadSchemas, treeSchemas } from "./schemas.ts";
import { hasFluxEntryPoints, validateFluxTree, type FluxTreeOptions } from "./fluxTree.ts";
import { jsonSafe, listYamlFiles, parseYamlFile, type ParseCache, type ParsedYamlFile } from "./yamlFiles.ts";

export interface ValidateTreeOptions {
    /**
     * The key prefix the tree is pushed under (`prod/`; `prod` and `/prod` mean the same), when it is
     * not the bucket root. Flux keeps the prefix in the artifact's paths, so every Bucket
     * Kustomization's spec.path must then start with it and name a directory of the tree after it.
     */
    prefix?: string;
    /** Run `kustomize build` of the kustomizations (default); without, only files, schemas and Flux paths are checked. */
    build?: boolean;
    /**
     * The tree as its owner has it, when `dir` is a copy of it without the files Flux ignores: problems name files
     * under it, and a Flux path that exists only there is reported as ignored.
     */
    original?: string;
    /**
     * Parse results of earlier runs by content: `keyOf` gives a file's content hash (undefined: not known, parse it).
     * A file whose content is cached is not read or parsed again.
     */
    parseCache?: { cache: ParseCache; keyOf: (file: string) => string | undefined };
    /** What `kubectl kustomize` built in earlier runs, by everything each build reads (src/validate/buildCache.ts). */
    buildCache?: BuildCache;
    /** Objects after a Flux Kustomization's postBuild substitution in earlier runs (FluxTreeOptions.substituted). */
    substituted?: FluxTreeOptions["substituted"];
    /** Schema checks that passed in earlier runs, by everything their outcome depends on (src/validate/checkCache.ts). */
    checked?: KeptChecks;
    /**
     * The root Kustomization's spec.path as Flux reads it (`./clusters/dev`, prefix included): the flux stack's
     * kustomizationPath, or push --root-path. With it, or with a Flux Kustomization reading a Bucket in the tree,
     * the tree is validated as Flux builds it from its entry points (src/validate/fluxTree.ts).
     */
    rootPath?: string;
    /** An object no schema knows is an error, not a warning. */
    strict?: boolean;
    /** User schemas in kubeconform's layout: directories or `{{ … }}` templates of local files. */
    schemaLocations?: string[];
    /** Let kustomize fetch remote bases and URL resources; by default they are left out of the check, with a warning. */
    allowRemote?: boolean;
    /**
     * The root Kustomization substitutes ${BUCKETOPS_PREFIX} with the prefix (the flux stack's substitutePrefix): Flux
     * paths may name the prefix through it (src/bucket/keys.ts PREFIX_VARIABLE).
     */
    substitutePrefix?: boolean;
}

/** What a validation that passed has to say: warnings (an object no schema knows, a remote base not checked) and notes. */
export interface ValidationReport {
    warnings: Problem[];
    notes: string[];
    /** "flux": built from the Flux entry points; "files": every file of the tree (no entry point found, or --skip-build). */
    mode: "flux" | "files";
}

/**
 * Validates a tree as it will sit in the bucket (dir is the bucket root): every YAML file parses,
 * every object matches its Kubernetes/Flux schema and has a name, every kustomization's local
 * references exist inside the tree, every kustomization builds as it is used (on its own when no
 * other kustomization includes it or a Flux Kustomization points at it, else as part of the one that
 * includes it) into objects that match their schemas, and every Flux Kustomization that reads a Bucket
 * points at a directory of the tree (under options.prefix when the tree is pushed under a prefix).
 * Throws ManifestValidationError listing every problem, files named as `dir` joined with their path.
 *
 * A mistake is reported once, where it is: a kustomization that includes a broken file or directory
 * is not built (its build would only repeat the same failure in a longer message). See buildKustomizations.
 */
export async function validateTree(dir: string, options: ValidateTreeOptions = {}): Promise<ValidationReport> {
    const root = path.resolve(dir);
    const prefix = normalizePrefix(options.prefix ?? "");
    const substitute = options.substitutePrefix ? prefixSubstitution(prefix) : undefined;
    const files = await listYamlFiles(root);
    if (files.length === 0) throwIfAny([{ file: dir, object: "", field: "", message: "has no *.yaml or *.yml files" }]);
    const contents = new ContentsOf(options.parseCache);
    const parse = (file: string) => contents.parse(file);
    const kustomizationFiles = await mapBounded(files.filter(isKustomizationFile), parse);
    const problems: Problem[] = kustomizationFiles.flatMap((file) => file.problems);
    const referenceProblems: Problem[] = [];
    const kustomizations = await readKustomizations(kustomizationFiles, root, referenceProblems);
    problems.push(...referenceProblems);
    const build = options.build ?? true;
    const manifests = await mapBounded(files.filter((file) => !isKustomizationFile(file)), parse);
    const documents = [...kustomizationFiles, ...manifests].flatMap((file) => file.documents);
    const display = (absolute: string) => path.join(options.original ?? dir, path.relative(root, absolute));
    const finish = (found: Problem[]) => {
        // Builds finish in any order (a check a cache answers sooner): a stable sort by file, then object (a component
        // that builds use warns once per object they name) keeps the report in the same order every run, and on every
        // machine: by the bytes (as Git lists paths), not localeCompare, whose order follows the locale (LANG, LC_ALL).
        const byFile = found.sort((a, b) => compareKeys(a.file, b.file) || compareKeys(a.object, b.object));
        return throwIfAny(byFile.map((problem) => ({ ...problem, file: display(problem.file) })));
    };
    // The models are loaded for what is checked (ObjectChecker.load): not for an object whose check passed before.
    const schemas = treeSchemas(await loadSchemas([]), documents, { schemaLocations: options.schemaLocations });
    const checked = options.checked;
    const keys = checked && new CheckKeys(checked.context, documents, { strict: options.strict, schemaLocations: options.schemaLocations });
    const checker = new ObjectChecker(schemas, { strict: options.strict }, checked && keys && { cache: checked.cache, keys });

    if (build && hasFluxEntryPoints([...kustomizationFiles, ...manifests], options.rootPath)) {
        const flux = await validateFluxTree(root, [...kustomizationFiles, ...manifests], kustomizations, referenceProblems, checker, {
            prefix,
            rootPath: options.rootPath,
            allowRemote: options.allowRemote,
            original: options.original,
            substitute,
            buildCache: options.buildCache,
            substituted: options.substituted,
            contentKey: options.parseCache?.keyOf,
        });
        const warnings = finish(flux.problems);
        return { warnings, notes: flux.notes, mode: "flux" };
    }

    if (build && kustomizations.size > 0) {
        // No Flux entry point: the root kustomizations are built as kustomize builds them (what each applies is
        // checked in its build, so a base that an overlay completes is not refused), and every other file on its own.
        const built = await validateFluxTree(root, [...kustomizationFiles, ...manifests], kustomizations, referenceProblems, checker, {
            prefix,
            allowRemote: options.allowRemote,
            roots: entryPoints(kustomizations, []).map(({ dir }) => dir),
            buildCache: options.buildCache,
            substituted: options.substituted,
            contentKey: options.parseCache?.keyOf,
        });
        const found = [...built.problems];
        const unreached = (file: ParsedYamlFile) => !built.reached.has(file.file);
        found.push(...[...kustomizationFiles, ...manifests].filter(unreached).flatMap((file) => file.problems));
        found.push(...referenceProblems.filter((problem) => !built.reached.has(problem.file)));
        const standalone = standaloneFiles(manifests, kustomizations).filter(unreached);
        await checker.load(standalone.flatMap((file) => file.documents));
        for (const file of standalone) {
            for (const document of file.documents) {
                found.push(...(await checkTreeObject(file.file, document, checker.check(file.file, document), root, prefix, options.original, substitute)));
            }
        }
        const unique = new Map(found.map((problem) => [JSON.stringify(problem), problem]));
        const warnings = finish([...unique.values()]);
        return { warnings, notes: [], mode: "files" };
    }

    // Building the roots takes longest: it runs while the rest of the tree is checked.
    const started = startRootBuilds(build ? kustomizations : new Map());
    try {
        problems.push(...manifests.flatMap((file) => file.problems));
        const standalone = standaloneFiles(manifests, kustomizations);
        await checker.load(standalone.flatMap((file) => file.documents));
        for (const file of standalone) {
            for (const document of file.documents) {
                problems.push(...(await checkTreeObject(file.file, document, checker.check(file.file, document), root, prefix, options.original, substitute)));
            }
        }
        const fluxTargets = standalone.flatMap(({ documents }) => documents.flatMap((document) => fluxTarget(document, root, prefix, substitute)));
        const parsed = new Map(manifests.map((manifest) => [manifest.file, manifest]));
        if (build) problems.push(...(await buildKustomizations(kustomizations, problems, { fluxTargets, checker, started, parsed })));
    } finally {
        await stopBuilds(started);
    }
    return { warnings: finish(problems), notes: [], mode: "files" };
}

/** The folders (relative to `dir`, "" for itself) of the tree's entry-point kustomizations: those no other one includes. */
export async function treeEntryPoints(dir: string): Promise<string[]> {
    const root = path.resolve(dir);
    const parsed = await mapBounded((await listYamlFiles(root)).filter(isKustomizationFile), parseYamlFile);
    const kustomizations = await readKustomizations(parsed, root, []);
    return entryPoints(kustomizations, []).map((k) => path.relative(root, k.dir).split(path.sep).join("/"));
}

/** Reads the kustomization files and checks that what each references exists inside the tree. */
export async function readKustomizations(parsed: ParsedYamlFile[], root: string, problems: Problem[]): Promise<Map<string, KustomizationDir>> {
    const found = new Map<string, KustomizationDir>();
    for (const { file, documents, problems: parseProblems } of parsed) {
        if (!isKustomizationFile(file) || parseProblems.length > 0) continue;
        const problem = (field: string, message: string) => problems.push({ file, object: KUSTOMIZATION_OBJECT, field, message });
        // An empty kustomization.yaml is an empty kustomization: Flux builds it (as nothing) when it is a Flux path.
        const [content] = documents.length === 0 ? [{}] : documents;
        if (documents.length > 1 || !isRecord(content)) {
            problem("", "is not a kustomization (expected one YAML mapping)");
            continue;
        }
        const dir = path.dirname(file);
        const references = localReferences(content, dir);
        for (const reference of references) {
            const kind = await pathKind(reference.target);
            if (!isInside(root, reference.target)) {
                problem(reference.field, `"${reference.value}" is outside the tree, so it would not be uploaded with it`);
            } else if (kind === "missing") {
                problem(reference.field, `"${reference.value}" does not exist`);
            } else if (kind === "directory" && reference.role === "resource" && !(await findKustomizationFile(reference.target))) {
                problem(reference.field, `"${reference.value}" is a directory without a kustomization.yaml`);
            }
        }
        found.set(dir, { dir, file, references, listsOnlyResources: listsOnlyResources(content, references) });
    }
    return found;
}

/**
 * Whether a kustomization does nothing but list local resources: then its build is its resources' objects, as
 * they are (see composedBuild). Any other field (namespace, labels, patches, generators, images, components…), a
 * remote resource or another apiVersion makes kustomize build it.
 */
function listsOnlyResources(content: Record<string, unknown>, references: LocalReference[]): boolean {
    const { apiVersion, kind, resources, ...rest } = content;
    return (
        Object.keys(rest).length === 0 &&
        (apiVersion === undefined || apiVersion === "kustomize.config.k8s.io/v1beta1") &&
        (kind === undefined || kind === "Kustomization") &&
        Array.isArray(resources) &&
        resources.length === references.filter((reference) => reference.field.startsWith("resources[")).length
    );
}

/**
 * Files (other than kustomization files) whose documents must be whole Kubernetes objects: all but the
 * files that kustomizations use only as patches or generator data (a patch is a partial object by design).
 */
function standaloneFiles(parsed: ParsedYamlFile[], kustomizations: Map<string, KustomizationDir>): ParsedYamlFile[] {
    const references = [...kustomizations.values()].flatMap((k) => k.references);
    const resources = new Set(references.filter((r) => r.role === "resource").map((r) => r.target));
    const partial = new Set(references.filter((r) => r.role !== "resource").map((r) => r.target));
    return parsed.filter(({ file }) => !isKustomizationFile(file) && (resources.has(file) || !partial.has(file)));
}

/** The schema check's problems plus what an object in the tree needs beyond it: a name, and a Flux path that exists. */
async function checkTreeObject(
    file: string,
    document: unknown,
    schemaProblems: Problem[],
    root: string,
    prefix: string,
    original?: string,
    substitute?: Record<string, string>,
): Promise<Problem[]> {
    const problems = [...schemaProblems];
    const unreadable = problems.some((p) => ["", "apiVersion", "kind"].includes(p.field));
    if (!isRecord(document) || unreadable) return problems;

    const object = objectLabel(document);
    const metadata = isRecord(document.metadata) ? document.metadata : {};
    if (typeof metadata.name !== "string" || metadata.name === "") {
        problems.push({ file, object, field: "metadata.name", message: "is required" });
    }
    const written = bucketKustomizationPath(document);
    const fluxPath = written === undefined ? undefined : withPrefixVariable(written, substitute);
    if (fluxPath !== undefined && !problems.some((p) => p.field === "spec.path")) {
        let message = await fluxPathProblem(fluxPath, root, prefix);
        if (message !== undefined && original !== undefined && (await fluxPathProblem(fluxPath, original, prefix)) === undefined) {
            message = `"${fluxPath}" holds nothing Flux would fetch: every file under it is ignored (the root .sourceignore or spec.ignore)`;
        }
        if (message !== undefined) problems.push({ file, object, field: "spec.path", message });
    }
    return problems;
}

/** The tree's files parsed through the parse cache, if any: cached contents are taken as they are, new ones added. */
class ContentsOf {
    private readonly options: ValidateTreeOptions["parseCache"];

    constructor(options: ValidateTreeOptions["parseCache"]) {
        this.options = options;
    }

    async parse(file: string): Promise<ParsedYamlFile> {
        const key = this.options?.keyOf(file);
        const cached = key === undefined ? undefined : this.options!.cache.get(key);
        if (cached) return { file, documents: cached.documents, problems: [], plain: cached.plain };
        const parsed = await parseYamlFile(file);
        if (key !== undefined && parsed.problems.length === 0 && jsonSafe(parsed.documents)) {
            this.options!.cache.set(key, { documents: parsed.documents, plain: parsed.plain });
        }
        return parsed;
    }
}

/** The directory of the tree a Flux Kustomization reading a Bucket builds, if the document is one (whether it exists or not). */
function fluxTarget(document: unknown, root: string, prefix: string, substitute?: Record<string, string>): string[] {
    const fluxPath = isRecord(document) ? bucketKustomizationPath(document) : undefined;
    const folder = fluxPath === undefined ? undefined : treeFolder(withPrefixVariable(fluxPath, substitute), prefix);
    return folder === undefined ? [] : [path.join(root, folder)];
}

async function findKustomizationFile(dir: string): Promise<string | undefined> {
    for (const name of KUSTOMIZATION_FILE_NAMES) {
        if ((await pathKind(path.join(dir, name))) === "file") return path.join(dir, name);
    }
    return undefined;
}
