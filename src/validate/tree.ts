import path from "node:path";
import { checkObject } from "./check-object";
import { bucketKustomizationPath, fluxPathProblem, normalizePrefix } from "./flux-path";
import { kustomizeBuild } from "./kustomize";
import { isKustomizationFile, KUSTOMIZATION_FILE_NAMES, localReferences, type LocalReference } from "./kustomization-file";
import { isInside, pathKind } from "./paths";
import { isRecord, objectLabel, throwIfAny, type Problem } from "./problems";
import { apiVersionsOf, loadSchemas, type SchemaRegistry } from "./schemas";
import { listYamlFiles, parseYamlFile, parseYamlStream, type ParsedYamlFile } from "./yaml-files";

/** How problems in a kustomization.yaml name their object: it is kustomize's config, not a cluster object. */
const KUSTOMIZATION_OBJECT = "Kustomization";

export interface ValidateTreeOptions {
    /**
     * The key prefix the tree is pushed under (`prod/`; `prod` and `/prod` mean the same), when it is
     * not the bucket root. Flux keeps the prefix in the artifact's paths, so every Bucket
     * Kustomization's spec.path must then start with it and name a directory of the tree after it.
     */
    prefix?: string;
}

interface KustomizationDir {
    dir: string;
    file: string;
    references: LocalReference[];
}

/**
 * Validates a tree as it will sit in the bucket (dir is the bucket root): every YAML file parses,
 * every object matches its Kubernetes/Flux schema and has a name, every kustomization's local
 * references exist inside the tree, every directory with a kustomization.yaml builds, and every
 * Flux Kustomization that reads a Bucket points at a directory of the tree (under options.prefix when
 * the tree is pushed under a prefix).
 * Throws ManifestValidationError listing every problem, files named as `dir` joined with their path.
 *
 * A mistake is reported once, where it is: a kustomization that includes a broken file or directory
 * is not built (its build would only repeat the same failure in a longer message).
 */
export async function validateTree(dir: string, options: ValidateTreeOptions = {}): Promise<void> {
    const root = path.resolve(dir);
    const prefix = normalizePrefix(options.prefix ?? "");
    const files = await listYamlFiles(root);
    if (files.length === 0) throwIfAny([{ file: dir, object: "", field: "", message: "has no *.yaml or *.yml files" }]);
    const parsed = await Promise.all(files.map(parseYamlFile));
    const schemas = await loadSchemas(apiVersionsOf(parsed.flatMap((file) => file.documents)));
    const problems: Problem[] = parsed.flatMap((file) => file.problems);

    const kustomizations = await readKustomizations(parsed, root, problems);
    const standalone = standaloneFiles(parsed, kustomizations);
    for (const file of parsed) {
        if (!standalone.has(file.file)) continue;
        for (const document of file.documents) problems.push(...(await checkTreeObject(file.file, document, schemas, root, prefix)));
    }
    problems.push(...(await buildAll(kustomizations, problems, schemas)));

    const display = (absolute: string) => path.join(dir, path.relative(root, absolute));
    // Builds finish in any order; a stable sort by file keeps the report in the same order every run.
    const byFile = problems.sort((a, b) => a.file.localeCompare(b.file));
    throwIfAny(byFile.map((problem) => ({ ...problem, file: display(problem.file) })));
}

/** Reads every kustomization file and checks that what it references exists inside the tree. */
async function readKustomizations(parsed: ParsedYamlFile[], root: string, problems: Problem[]): Promise<Map<string, KustomizationDir>> {
    const found = new Map<string, KustomizationDir>();
    for (const { file, documents, problems: parseProblems } of parsed) {
        if (!isKustomizationFile(file) || parseProblems.length > 0) continue;
        const problem = (field: string, message: string) => problems.push({ file, object: KUSTOMIZATION_OBJECT, field, message });
        const [content] = documents;
        if (documents.length !== 1 || !isRecord(content)) {
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
        found.set(dir, { dir, file, references });
    }
    return found;
}

/**
 * Files whose documents must be whole Kubernetes objects: all but kustomization files and files that
 * kustomizations use only as patches or generator data (a patch is a partial object by design).
 */
function standaloneFiles(parsed: ParsedYamlFile[], kustomizations: Map<string, KustomizationDir>): Set<string> {
    const references = [...kustomizations.values()].flatMap((k) => k.references);
    const resources = new Set(references.filter((r) => r.role === "resource").map((r) => r.target));
    const partial = new Set(references.filter((r) => r.role !== "resource").map((r) => r.target));
    return new Set(
        parsed
            .map(({ file }) => file)
            .filter((file) => !isKustomizationFile(file) && (resources.has(file) || !partial.has(file))),
    );
}

/** The schema check plus what an object in the tree needs beyond it: a name, and a Flux path that exists. */
async function checkTreeObject(file: string, document: unknown, schemas: SchemaRegistry, root: string, prefix: string): Promise<Problem[]> {
    const problems = checkObject(file, document, schemas);
    const unreadable = problems.some((p) => ["", "apiVersion", "kind"].includes(p.field));
    if (!isRecord(document) || unreadable) return problems;

    const object = objectLabel(document);
    const metadata = isRecord(document.metadata) ? document.metadata : {};
    if (typeof metadata.name !== "string" || metadata.name === "") {
        problems.push({ file, object, field: "metadata.name", message: "is required" });
    }
    const fluxPath = bucketKustomizationPath(document);
    if (fluxPath !== undefined && !problems.some((p) => p.field === "spec.path")) {
        const message = await fluxPathProblem(fluxPath, root, prefix);
        if (message !== undefined) problems.push({ file, object, field: "spec.path", message });
    }
    return problems;
}

/**
 * Builds every kustomization whose inputs are all clean, dependencies first, and schema-checks the
 * output (patches can break an object that was valid in its own file).
 */
async function buildAll(kustomizations: Map<string, KustomizationDir>, found: Problem[], schemas: SchemaRegistry): Promise<Problem[]> {
    const problems: Problem[] = [];
    const brokenFiles = new Set(found.map((problem) => problem.file));
    // A directory whose kustomization.yaml does not even parse is not in `kustomizations`.
    const brokenDirs = new Set([...brokenFiles].filter(isKustomizationFile).map((file) => path.dirname(file)));
    const results = new Map<string, Promise<boolean>>();

    const isClean = (kustomization: KustomizationDir, chain: string[]): Promise<boolean> => {
        let result = results.get(kustomization.dir);
        if (!result) {
            result = buildIfInputsClean(kustomization, [...chain, kustomization.dir]);
            results.set(kustomization.dir, result);
        }
        return result;
    };

    const buildIfInputsClean = async (kustomization: KustomizationDir, chain: string[]): Promise<boolean> => {
        if (brokenFiles.has(kustomization.file)) return false;
        for (const { target } of kustomization.references) {
            if (brokenFiles.has(target) || brokenDirs.has(target)) return false;
            const dependency = kustomizations.get(target);
            // A cycle is left for kustomize to report.
            if (dependency && !chain.includes(target) && !(await isClean(dependency, chain))) return false;
        }
        const built = await kustomizeBuild(kustomization.dir);
        if (!built.ok) {
            problems.push({ file: kustomization.file, object: KUSTOMIZATION_OBJECT, field: "", message: `kustomize build failed: ${built.error}` });
            return false;
        }
        const output = parseYamlStream(built.yaml);
        await loadSchemas(apiVersionsOf(output));
        const outputProblems = output.flatMap((object) => checkObject(kustomization.file, object, schemas));
        for (const problem of outputProblems) problems.push({ ...problem, message: `${problem.message} in the kustomize build output` });
        return outputProblems.length === 0;
    };

    await Promise.all([...kustomizations.values()].map((kustomization) => isClean(kustomization, [])));
    return problems;
}

async function findKustomizationFile(dir: string): Promise<string | undefined> {
    for (const name of KUSTOMIZATION_FILE_NAMES) {
        if ((await pathKind(path.join(dir, name))) === "file") return path.join(dir, name);
    }
    return undefined;
}
