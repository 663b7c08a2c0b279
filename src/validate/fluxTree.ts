// Validation of what Flux applies, built the way kustomize-controller v1.8.3 (Flux 2.8.8) builds it.
//
// Entry points: the root Kustomization's path (ValidateTreeOptions.rootPath: the flux stack's kustomizationPath)
// and every Flux Kustomization (kustomize.toolkit.fluxcd.io) or FluxInstance sync whose source is a Bucket, found
// in what the entry points build, transitively. Without a root path, a file holding such a Kustomization that no
// entry point reaches is built as its own entry point (its folder), as the cluster's bootstrap applies it.
//
// Each entry point is built as kustomize-controller does (fluxcd/pkg kustomize v1.27.1, kustomize_generator.go):
// - a path without a kustomization.yaml gets a generated one listing every .yaml/.yml file below it, and each
//   sub-folder that has a kustomization file as a folder (scanManifests); no file at all builds nothing;
// - a kustomization.yaml without resources (even an empty one) builds (WriteFile sets buildMetadata on it);
// - spec.targetNamespace, namePrefix, nameSuffix, patches, images and components are applied on top (here as an
//   overlay kustomization over the path, which gives the same objects unless a component or image rule depends on
//   the order of the path's own transformers);
// - postBuild.substitute/substituteFrom run Flux's envsubst on each object (kustomize_varsub.go): values that come
//   from substituteFrom are not known offline and become PLACEHOLDER, which satisfies any type;
// - a SOPS-encrypted object is accepted (its values are not known offline) when the Kustomization decrypts with SOPS.
// Remote bases and URL resources are not fetched unless allowRemote: they are left out of the build, with a warning.
// The builds run in a copy of the tree (hard links) so that nothing is written into the user's tree.
import { createHash } from "node:crypto";
import { link, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { walkFiles } from "../fs/walk.ts";
import { mapBounded } from "../fs/bounded.ts";
import { buildKey, UNFOLLOWED_FIELDS, type BuildCache } from "./buildCache.ts";
import { composedWithFiles, once, type KustomizationDir } from "./builds.ts";
import { composeBuild } from "./compose.ts";
import { isSopsEncrypted, type ObjectChecker } from "./checkObject.ts";
import { envsubst, EnvsubstError } from "./envsubst.ts";
import { compareKeys, PREFIX_VARIABLE } from "../bucket/keys.ts";
import { bucketKustomizationPath, fluxPathProblem, treeFolder, withPrefixVariable } from "./fluxPath.ts";
import { isKustomizationFile, isRemote, KUSTOMIZATION_FILE_NAMES } from "./kustomizationFile.ts";
import { kustomizeBuild } from "./kustomize.ts";
import { pathKind } from "./paths.ts";
import { isRecord, objectLabel, PLACEHOLDER, type Problem } from "./problems.ts";
import { jsonSafe, parseYamlStream, parseYamlText, type ParsedYamlFile } from "./yamlFiles.ts";

export interface FluxTreeOptions {
    prefix: string;
    /** The root Kustomization's spec.path as Flux reads it (prefix included), e.g. `./clusters/dev`. */
    rootPath?: string;
    /** Let kustomize fetch remote bases and URL resources (push --allow-remote-bases); default: left out, with a warning. */
    allowRemote?: boolean;
    /**
     * Folders to build as they are, instead of Flux's entry points: a tree without any (no root path, no Bucket
     * Kustomization) is checked from its root kustomizations, as `kubectl kustomize` would build them.
     */
    roots?: string[];
    /** The tree as its owner has it when `root` is a copy without the files Flux ignores (ValidateTreeOptions.original). */
    original?: string;
    /** The root Kustomization's postBuild.substitute (the flux stack's substitutePrefix: ${BUCKETOPS_PREFIX}). */
    substitute?: Record<string, string>;
    /** kubectl builds of earlier runs by their inputs (src/validate/buildCache.ts). */
    buildCache?: BuildCache;
    /**
     * Objects after postBuild substitution from earlier runs, by the object and the variables (sha256 of both): the
     * YAML round trip kustomize-controller's substitution needs is not repeated for an object that did not change.
     */
    substituted?: { get(key: string): unknown; set(key: string, object: unknown): void };
    /** A file's content hash when the caller knows it (the push's MD5s), so that the build cache's key reads no file. */
    contentKey?: (file: string) => string | undefined;
}

export interface FluxTreeResult {
    problems: Problem[];
    notes: string[];
    /** The tree's files that some build read. */
    reached: Set<string>;
}

/** One Flux build: a folder of the tree and the Flux Kustomization spec it is built with. */
interface Entry {
    dir: string;
    spec: Record<string, unknown>;
    /** Where the entry point is declared, for problems about it. */
    file: string;
    object: string;
    /** Whether a SOPS-encrypted object is decrypted by Flux (spec.decryption.provider sops); undefined: not known (root). */
    decrypts?: boolean;
    /** The Flux Kustomization's namespace, where Flux looks up substituteFrom. */
    namespace?: string;
}

const ORIGIN = "config.kubernetes.io/origin";
/** Which overlay (entry point) a built object came from, in a batch of them; removed before anything is checked. */
const OVERLAY_LABEL = "bucketops-validation/overlay";

/**
 * What ArtifactGenerators (source.extensions.fluxcd.io, Flux 2.7+) that read the Bucket make of it: for each
 * ExternalArtifact name, its copy rules of whole folders (`from: "@src/apps/base/**"` or `"@src/apps/base/"`, `to: "@artifact/base/"`),
 * as bucket folder → artifact folder. A Kustomization of that ExternalArtifact builds the bucket folder its path
 * maps back to (the copies keep relative paths, so its kustomize references resolve the same in the tree).
 */
type Artifacts = Map<string, { from: string; to: string }[]>;

export function artifactsFrom(documents: unknown[]): Artifacts {
    const artifacts: Artifacts = new Map();
    for (const document of documents) {
        if (!isRecord(document) || document.kind !== "ArtifactGenerator" || !String(document.apiVersion).startsWith("source.extensions.fluxcd.io/")) continue;
        const spec = isRecord(document.spec) ? document.spec : {};
        const aliases = new Set(
            (Array.isArray(spec.sources) ? spec.sources : []).filter((source) => isRecord(source) && source.kind === "Bucket").map((source) => String((source as Record<string, unknown>).alias)),
        );
        for (const artifact of Array.isArray(spec.artifacts) ? spec.artifacts : []) {
            if (!isRecord(artifact) || typeof artifact.name !== "string") continue;
            const rules = (Array.isArray(artifact.copy) ? artifact.copy : []).flatMap((rule) => {
                if (!isRecord(rule) || typeof rule.from !== "string" || typeof rule.to !== "string") return [];
                // A folder's content: `@src/dir/**`, or `@src/dir/` (what the xunholy/k8s-gitops fleet writes).
                const from = /^@([^/]+)\/(.*?)\/(\*\*)?$/.exec(rule.from);
                const to = /^@artifact\/?(.*)$/.exec(rule.to);
                if (!from || !to || !aliases.has(from[1])) return [];
                return [{ from: from[2].replace(/\/$/, ""), to: to[1].replace(/\/$/, "") }];
            });
            if (rules.length > 0) artifacts.set(artifact.name, [...(artifacts.get(artifact.name) ?? []), ...rules]);
        }
    }
    return artifacts;
}

/** The bucket path (`./apps/production`) an ExternalArtifact Kustomization's path is a copy of, if a copy rule covers it. */
function throughArtifact(document: Record<string, unknown>, artifacts: Artifacts): string | undefined {
    if (!String(document.apiVersion).startsWith("kustomize.toolkit.fluxcd.io/") || document.kind !== "Kustomization" || !isRecord(document.spec)) return undefined;
    const { sourceRef, path: fluxPath } = document.spec;
    if (!isRecord(sourceRef) || sourceRef.kind !== "ExternalArtifact" || typeof sourceRef.name !== "string") return undefined;
    const folder = path.posix.join(".", typeof fluxPath === "string" ? fluxPath : "./").replace(/^\.$/, "").replace(/\/$/, "");
    const rules = [...(artifacts.get(sourceRef.name) ?? [])].sort((a, b) => b.to.length - a.to.length);
    const rule = rules.find(({ to }) => to === "" || folder === to || folder.startsWith(`${to}/`));
    if (!rule) return undefined;
    const rest = rule.to === "" ? folder : folder.slice(rule.to.length).replace(/^\//, "");
    return `./${path.posix.join(rule.from, rest)}`;
}

/** The Flux entry points declared in these files: Bucket Kustomizations and FluxInstance syncs from a Bucket. */
function declaredEntries(document: unknown, artifacts: Artifacts = new Map()): { fluxPath: string; field: string; spec: Record<string, unknown>; decrypts?: boolean }[] {
    if (!isRecord(document)) return [];
    const fluxPath = bucketKustomizationPath(document) ?? throughArtifact(document, artifacts);
    if (fluxPath !== undefined) {
        const spec = document.spec as Record<string, unknown>;
        const decryption = isRecord(spec.decryption) ? spec.decryption : {};
        return [{ fluxPath, field: "spec.path", spec, decrypts: decryption.provider === "sops" }];
    }
    // FluxInstance (fluxcd.controlplane.io/v1) spec.sync: the Kustomization flux-operator creates for the cluster.
    if (document.kind === "FluxInstance" && String(document.apiVersion).startsWith("fluxcd.controlplane.io/") && isRecord(document.spec)) {
        const sync = document.spec.sync;
        if (isRecord(sync) && sync.kind === "Bucket") return [{ fluxPath: typeof sync.path === "string" ? sync.path : "./", field: "spec.sync.path", spec: {}, decrypts: undefined }];
    }
    return [];
}

/** Whether the tree has a Flux entry point: then it is validated as Flux builds it (validateFluxTree), else file by file. */
export function hasFluxEntryPoints(files: ParsedYamlFile[], rootPath: string | undefined): boolean {
    const artifacts = artifactsFrom(files.flatMap((file) => file.documents));
    return rootPath !== undefined || files.some((file) => file.documents.some((document) => declaredEntries(document, artifacts).length > 0));
}

export async function validateFluxTree(
    root: string,
    files: ParsedYamlFile[],
    kustomizations: Map<string, KustomizationDir>,
    referenceProblems: Problem[],
    checker: ObjectChecker,
    options: FluxTreeOptions,
): Promise<FluxTreeResult> {
    const work = await mkdtemp(path.join(tmpdir(), "bucketops-flux-"));
    try {
        return await new FluxTree(root, work, files, kustomizations, referenceProblems, checker, options).run();
    } finally {
        await rm(work, { recursive: true, force: true });
    }
}

class FluxTree {
    private readonly problems: Problem[] = [];
    private readonly reached = new Set<string>();
    private readonly built = new Set<string>();
    private readonly reported = new Set<string>();
    private readonly copy: string;
    private readonly parsed: Map<string, ParsedYamlFile>;
    private readonly problemsByFile = new Map<string, Problem[]>();
    private readonly remoteWarnings = new Map<string, Problem[]>();
    private overlays = 0;
    /** kustomize builds by folder and overlay (FluxTree.kustomize): one per folder and fields other than postBuild. */
    private readonly kustomizeRuns = new Map<string, Promise<{ overlay: string; result: { ok: true; objects: unknown[] } | { ok: false; error: string } }>>();
    /** The tree's kustomization files as kustomize is given them: without their remote references (offline). */
    private readonly rewrites: { file: string; text: string }[] = [];
    private copied: Promise<void> | undefined;
    private readonly batches: Batches;
    private readonly root: string;
    private readonly work: string;
    private readonly kustomizations: Map<string, KustomizationDir>;
    private readonly checker: ObjectChecker;
    private readonly options: FluxTreeOptions;
    /** Builds of one folder run one after the other: a generated kustomization.yaml is written into the copy. */
    private readonly dirLocks = new Map<string, Promise<void>>();
    private readonly artifacts: Artifacts;
    /** Files kustomize reads as resources (whole objects), as opposed to patches and generator data. */
    private readonly resources = new Set<string>();

    constructor(
        root: string,
        work: string,
        files: ParsedYamlFile[],
        kustomizations: Map<string, KustomizationDir>,
        referenceProblems: Problem[],
        checker: ObjectChecker,
        options: FluxTreeOptions,
    ) {
        this.root = root;
        this.work = work;
        this.copy = path.join(work, "tree");
        this.kustomizations = kustomizations;
        this.checker = checker;
        this.options = options;
        this.parsed = new Map(files.map((file) => [file.file, file]));
        this.artifacts = artifactsFrom(files.flatMap((file) => file.documents));
        this.batches = new Batches(path.join(work, "batches"));
        for (const problem of [...files.flatMap((file) => file.problems), ...referenceProblems]) {
            this.problemsByFile.set(problem.file, [...(this.problemsByFile.get(problem.file) ?? []), problem]);
        }
    }

    async run(): Promise<FluxTreeResult> {
        this.findRemote();
        let queue: Entry[] = (this.options.roots ?? []).map((dir) => ({ dir, spec: {}, file: path.join(dir, "kustomization.yaml"), object: "" }));
        // What the root Kustomization (the flux stack's, which the bootstrap of a tree's own Kustomizations stands for) builds with.
        const rootSpec = this.options.substitute ? { postBuild: { substitute: this.options.substitute } } : {};
        if (this.options.rootPath !== undefined) {
            const dir = await this.entryDir(this.options.rootPath, { file: this.root, object: "the root Kustomization" }, "--root-path");
            if (dir) queue.push({ dir, spec: rootSpec, file: this.root, object: "the root Kustomization" });
        }
        const selfRoots = new Set<string>();
        for (;;) {
            while (queue.length > 0) {
                const found = await Promise.all(queue.map((entry) => this.build(entry)));
                queue = found.flat();
            }
            if (this.options.rootPath !== undefined || this.options.roots !== undefined) break;
            // A file declaring a Bucket Kustomization that nothing built yet: the cluster's bootstrap applies it. The
            // shallowest first, one at a time: what it builds usually reaches the others (the Kustomizations of apps).
            // A file under a folder that some Kustomization of the tree builds is that one's child, not a root.
            // Ties go by the paths' bytes, as Git lists them: not localeCompare, whose order follows the user's locale.
            const declaredFolders = [...this.parsed.values()].flatMap((file) =>
                file.documents.flatMap((document) =>
                    declaredEntries(document, this.artifacts).flatMap(({ fluxPath }) => {
                        const folder = treeFolder(withPrefixVariable(fluxPath, this.options.substitute), this.options.prefix);
                        return folder === undefined ? [] : [path.join(this.root, folder)];
                    }),
                ),
            );
            const isChild = (file: string) => declaredFolders.some((folder) => file.startsWith(`${folder}${path.sep}`));
            const candidates = [...this.parsed.values()]
                .filter((file) => !this.reached.has(file.file) && !selfRoots.has(path.dirname(file.file)))
                .filter((file) => file.documents.some((document) => declaredEntries(document, this.artifacts).length > 0))
                .sort((a, b) => Number(isChild(a.file)) - Number(isChild(b.file)) || depth(a.file) - depth(b.file) || compareKeys(a.file, b.file));
            const next = candidates[0];
            if (!next) break;
            selfRoots.add(path.dirname(next.file));
            queue.push({ dir: path.dirname(next.file), spec: rootSpec, file: next.file, object: "" });
        }
        const unreached = [...this.parsed.keys()].filter((file) => !this.reached.has(file));
        const notes =
            unreached.length === 0
                ? []
                : [`${unreached.length} YAML file(s) are not applied by any Flux entry point and were not validated (e.g. ${path.relative(this.root, unreached[0])})`];
        // A component used by many Kustomizations repeats its mistake in each build: report it once.
        const unique = new Map(this.problems.map((problem) => [JSON.stringify(problem), problem]));
        return { problems: [...unique.values()], notes, reached: this.reached };
    }

    /** Remote references are found before anything is built: kustomize would reach the network for them. */
    private findRemote(): void {
        for (const [dir, kustomization] of this.kustomizations) {
            const content = this.parsed.get(kustomization.file)?.documents[0];
            if (!isRecord(content)) continue;
            const { kept, remote } = withoutRemote(content);
            if (remote.length === 0) continue;
            this.remoteWarnings.set(
                kustomization.file,
                remote.map(({ field, value }) => ({
                    file: kustomization.file,
                    object: "Kustomization",
                    field,
                    message: this.options.allowRemote
                        ? `"${value}" is remote: kustomize fetched it for this check (--allow-remote-bases)`
                        : `"${value}" is remote and not checked offline (Flux fetches it in the cluster; --allow-remote-bases fetches it here)`,
                    severity: "warning" as const,
                })),
            );
            if (!this.options.allowRemote) this.rewrites.push({ file: path.join(dir, path.basename(kustomization.file)), text: stringify(kept) });
        }
    }

    /**
     * A hard-linked copy of the tree (copies where the disk has no hard links), where generated files are written,
     * made when kustomize first has to run (a tree whose builds are all composed needs none).
     */
    private copyOnce(): Promise<void> {
        this.copied ??= this.makeCopy();
        return this.copied;
    }

    private async makeCopy(): Promise<void> {
        const files = await walkFiles(this.root, { skipFolder: (name) => name === ".git" });
        await mapBounded(files, async (file) => {
            const target = path.join(this.copy, path.relative(this.root, file));
            await mkdir(path.dirname(target), { recursive: true });
            await link(file, target).catch(() => copyFile(file, target));
        });
        for (const { file, text } of this.rewrites) await this.writeInCopy(file, text);
        // Kustomization files the listing leaves out (under hidden folders) can still be built (Flux's generator
        // walks every folder): offline, their remote references go too. One that does not parse is left to kustomize.
        if (this.options.allowRemote) return;
        for (const file of files.filter((candidate) => isKustomizationFile(candidate) && !this.parsed.has(candidate))) {
            const [document] = parseYamlText(file, await readFile(file, "utf8")).documents;
            if (!isRecord(document)) continue;
            const { kept, remote } = withoutRemote(document);
            if (remote.length > 0) await this.writeInCopy(file, stringify(kept));
        }
    }

    private async writeInCopy(file: string, text: string): Promise<void> {
        const target = path.join(this.copy, path.relative(this.root, file));
        await rm(target, { force: true }); // a hard link: the tree's own file must not change
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, text);
    }

    /** The folder of the tree a Flux path names, or undefined (with a problem) when it is not one. */
    private async entryDir(fluxPath: string, at: { file: string; object: string }, field: string): Promise<string | undefined> {
        // ${BUCKETOPS_PREFIX} left in a path: no postBuild on the way substituted it, and Flux would not either.
        if (fluxPath.includes(PLACEHOLDER) || (fluxPath.includes("${") && !fluxPath.includes(`\${${PREFIX_VARIABLE}}`))) {
            this.problems.push({ ...at, field, message: `"${fluxPath}" depends on a variable not known offline: what it builds is not checked`, severity: "warning" });
            return undefined;
        }
        let message = await fluxPathProblem(fluxPath, this.root, this.options.prefix);
        if (message !== undefined && this.options.original !== undefined && (await fluxPathProblem(fluxPath, this.options.original, this.options.prefix)) === undefined) {
            message = `"${fluxPath}" holds nothing Flux would fetch: every file under it is ignored (the root .sourceignore or spec.ignore)`;
        }
        if (message !== undefined) {
            this.problems.push({ ...at, field, message });
            return undefined;
        }
        return path.join(this.root, treeFolder(fluxPath, this.options.prefix)!);
    }

    /** Builds one entry point (once per folder and spec) and checks what it gives; returns the entry points it declares. */
    private async build(entry: Entry): Promise<Entry[]> {
        const key = `${entry.dir}\0${JSON.stringify(buildFields(entry.spec))}\0${entry.decrypts}`;
        if (this.built.has(key)) return [];
        this.built.add(key);

        const inputs = await this.inputs(entry.dir);
        const broken = inputs.filter((file) => (this.problemsByFile.get(file) ?? []).length > 0);
        for (const file of inputs) {
            this.reached.add(file);
            for (const warning of this.remoteWarnings.get(file) ?? []) this.report(warning);
        }
        if (broken.length > 0) {
            // A mistake is reported once, where it is; the build would only repeat it.
            for (const file of broken) for (const problem of this.problemsByFile.get(file)!) this.report(problem);
            return [];
        }

        // What kustomize would refuse in a resource file without saying which: a document that is no object.
        const identity = this.identityProblems(inputs);
        if (identity.length > 0) {
            identity.forEach((problem) => this.report(problem));
            return [];
        }

        const result = await this.locked(entry.dir, () => this.kustomize(entry));
        if (!result.ok) {
            // The mistake is in the innermost folder kustomize was reading: name its kustomization file.
            const { folder, reason } = innermost(result.error);
            const own = (folder && (await findKustomizationFile(folder))) || (await findKustomizationFile(entry.dir));
            this.report({ file: own ?? entry.file, object: own ? "Kustomization" : entry.object, field: "", message: `kustomize build failed: ${reason}` });
            return [];
        }
        const built = result.objects.map(({ object, file }) => {
            this.reached.add(file);
            return { file, applied: this.postBuild(entry, object, file) };
        });
        // The models of the kinds checked (kustomize's generators may make kinds the tree's files do not have).
        await this.checker.load(built.map(({ applied }) => applied).filter((applied) => applied !== undefined));
        const children: Entry[] = [];
        for (const { file, applied } of built) {
            if (!applied) continue;
            if (isRecord(applied) && isSopsEncrypted(applied) && entry.decrypts === false) {
                this.problems.push({
                    file,
                    object: objectLabel(applied),
                    field: "sops",
                    message: `is SOPS-encrypted, but the Flux Kustomization that applies it (${entry.object || path.relative(this.root, entry.file)}) has no spec.decryption with provider sops: Flux would apply the encrypted values`,
                });
                continue;
            }
            this.problems.push(...(await this.located(this.checker.check(file, applied), applied, file, entry)));
            for (const declared of declaredEntries(applied, this.artifacts)) {
                const at = { file, object: objectLabel(applied) };
                const dir = await this.entryDir(declared.fluxPath, at, declared.field);
                const namespace = isRecord(applied) && isRecord(applied.metadata) && typeof applied.metadata.namespace === "string" ? applied.metadata.namespace : undefined;
                if (dir) children.push({ dir, spec: declared.spec, ...at, decrypts: declared.decrypts, namespace });
            }
        }
        return children;
    }

    /**
     * Where a built object's problems are: in its file when the document there has them too, else in what changed
     * it on the way (the nearest kustomization above the file that patches or transforms, or the Flux Kustomization
     * whose spec.patches did), "in the kustomize build output".
     */
    private async located(problems: Problem[], built: unknown, file: string, entry: Entry): Promise<Problem[]> {
        const errors = problems.filter((problem) => problem.severity !== "warning");
        if (errors.length === 0) return problems;
        const source = sourceDocument(this.parsed.get(file)?.documents ?? [], built);
        if (!source) return problems;
        await this.checker.load([source]);
        const inSource = this.checker.check(file, source);
        const same = (a: Problem, b: Problem) => a.field === b.field && a.message === b.message;
        if (errors.every((error) => inSource.some((problem) => same(problem, error) && problem.severity !== "warning"))) return problems;
        // The file holds a ${VAR} there: the value postBuild substituted is wrong.
        if (errors.every((error) => inSource.some((problem) => problem.field === error.field && problem.severity === "warning"))) {
            const by = entry.object || path.relative(this.root, entry.file);
            return problems.map((problem) => (problem.severity === "warning" ? problem : { ...problem, message: `${problem.message} after postBuild substitution (${by})` }));
        }
        const transformer = this.transformerOf(file, entry.dir) ?? { file: entry.file };
        return problems.map((problem) => (problem.severity === "warning" ? problem : { ...problem, file: transformer.file, message: `${problem.message} in the kustomize build output` }));
    }

    /** The last kustomization that patches or transforms on the way from the entry's folder to the file, if any. */
    private transformerOf(file: string, top: string): { file: string } | undefined {
        const chain = this.includePath(top, file, new Set());
        for (const dir of (chain ?? []).reverse()) {
            const own = this.kustomizations.get(dir);
            const content = own ? this.parsed.get(own.file)?.documents[0] : undefined;
            if (own && isRecord(content) && TRANSFORMING.some((field) => field in content)) return { file: own.file };
        }
        return undefined;
    }

    /** The kustomization folders from `dir` to the one that lists `file`, following resources and components. */
    private includePath(dir: string, file: string, seen: Set<string>): string[] | undefined {
        const kustomization = this.kustomizations.get(dir);
        if (!kustomization || seen.has(dir)) return undefined;
        seen.add(dir);
        if (kustomization.references.some((reference) => reference.target === file)) return [dir];
        for (const reference of kustomization.references) {
            const rest = this.includePath(reference.target, file, seen);
            if (rest) return [dir, ...rest];
        }
        return undefined;
    }

    /** Every document of a resource file has an apiVersion, a kind and a metadata.name (kustomize needs them). */
    private identityProblems(inputs: string[]): Problem[] {
        const problems: Problem[] = [];
        for (const file of inputs) {
            if (!this.resources.has(file)) continue;
            for (const document of this.parsed.get(file)?.documents ?? []) {
                const object = objectLabel(document);
                if (!isRecord(document)) problems.push({ file, object: "", field: "", message: "is not a Kubernetes object (expected a mapping with apiVersion and kind)" });
                else if (typeof document.apiVersion !== "string" || document.apiVersion === "") problems.push({ file, object, field: "apiVersion", message: "is required" });
                else if (typeof document.kind !== "string" || document.kind === "") problems.push({ file, object, field: "kind", message: "is required" });
                else if (document.kind.endsWith("List") || document.apiVersion.startsWith("kustomize.config.k8s.io/")) continue;
                else if (!isRecord(document.metadata) || typeof document.metadata.name !== "string" || document.metadata.name === "") {
                    problems.push({ file, object, field: "metadata.name", message: "is required" });
                }
            }
        }
        return problems;
    }

    private report(problem: Problem): void {
        const key = JSON.stringify(problem);
        if (this.reported.has(key)) return;
        this.reported.add(key);
        this.problems.push(problem);
    }

    private async locked<T>(dir: string, run: () => Promise<T>): Promise<T> {
        const before = this.dirLocks.get(dir) ?? Promise.resolve();
        const result = before.then(run);
        this.dirLocks.set(
            dir,
            result.then(
                () => undefined,
                () => undefined,
            ),
        );
        return result;
    }

    private readonly inputsOf = new Map<string, Promise<string[]>>();

    /** The tree's files an entry point's build reads: kustomization files and what they reference, or the generated list. */
    private inputs(dir: string): Promise<string[]> {
        return once(this.inputsOf, dir, () => this.findInputs(dir));
    }

    private async findInputs(dir: string): Promise<string[]> {
        const found = new Set<string>();
        const visit = async (folder: string) => {
            const kustomization = this.kustomizations.get(folder);
            const own = await findKustomizationFile(folder);
            if (own) {
                if (found.has(own)) return;
                found.add(own);
                for (const reference of kustomization?.references ?? []) {
                    const kind = await pathKind(reference.target);
                    if (kind === "directory") await visit(reference.target);
                    else found.add(reference.target);
                    if (kind === "file" && reference.role === "resource" && !isKustomizationFile(reference.target)) this.resources.add(reference.target);
                }
                return;
            }
            for (const resource of await generatedResources(folder)) {
                if ((await pathKind(resource)) === "directory") await visit(resource);
                else {
                    found.add(resource);
                    this.resources.add(resource);
                }
            }
        };
        await visit(dir);
        return [...found];
    }

    /** kustomize build of the entry as kustomize-controller does it; objects with the tree file each came from. */
    private async kustomize(entry: Entry): Promise<{ ok: true; objects: { object: unknown; file: string }[] } | { ok: false; error: string }> {
        // A kustomization that only lists plain whole objects builds into exactly them (composedObjects); Flux's
        // targetNamespace, namePrefix and nameSuffix then only set namespaces and names, which no schema check
        // depends on (kustomize's rules for which objects they touch do not matter here). Anything else: kustomize.
        const own = this.kustomizations.get(entry.dir);
        const { targetNamespace, namePrefix, nameSuffix, postBuild: _postBuild, ...transforming } = buildFields(entry.spec);
        if (own && Object.values(transforming).every((value) => value === undefined)) {
            const composed = composedWithFiles(own, this.kustomizations, this.parsed);
            if (composed) {
                const named = (object: Record<string, unknown>) => {
                    if (targetNamespace === undefined && namePrefix === undefined && nameSuffix === undefined) return object;
                    const metadata = { ...(object.metadata as Record<string, unknown>) };
                    if (typeof targetNamespace === "string" && metadata.namespace === undefined && object.kind !== "Namespace") metadata.namespace = targetNamespace;
                    if (typeof targetNamespace === "string" && metadata.namespace !== undefined) metadata.namespace = targetNamespace;
                    metadata.name = `${typeof namePrefix === "string" ? namePrefix : ""}${String(metadata.name)}${typeof nameSuffix === "string" ? nameSuffix : ""}`;
                    return { ...object, metadata };
                };
                return { ok: true, objects: composed.map(({ object, file }) => ({ object: named(object), file })) };
            }
        }
        // More that kustomize builds is certain without it (compose.ts): namespaces, ConfigMap generators, patches of
        // custom resources, Flux's generated kustomization, with spec.components, spec.patches and targetNamespace on top.
        if (namePrefix === undefined && nameSuffix === undefined && (targetNamespace === undefined || typeof targetNamespace === "string")) {
            const { patches, components, ...others } = transforming;
            if (Object.values(others).every((value) => value === undefined) && (patches === undefined || Array.isArray(patches)) && (components === undefined || Array.isArray(components))) {
                const generated = own || (await findKustomizationFile(entry.dir)) ? undefined : await generatedResources(entry.dir);
                const sources = { kustomizations: this.kustomizations, parsed: this.parsed, omitRemote: !this.options.allowRemote };
                const composed = await composeBuild(entry.dir, sources, { targetNamespace, generated, patches: patches as unknown[] | undefined, components: components as unknown[] | undefined });
                if (composed) return { ok: true, objects: composed };
            }
        }
        // What kubectl built before from exactly these inputs.
        const cacheKey = this.options.buildCache ? await this.buildCacheKey(entry) : undefined;
        const cached = cacheKey === undefined ? undefined : this.options.buildCache!.get(cacheKey);
        if (cached) return { ok: true, objects: cached.objects.map(({ object, file }) => ({ object, file: path.resolve(this.root, file) })) };
        await this.copyOnce();
        const copyDir = path.join(this.copy, path.relative(this.root, entry.dir));
        const ownFile = await findKustomizationFile(entry.dir);
        if (!ownFile) {
            const resources = (await generatedResources(entry.dir)).map((resource) => `./${path.relative(entry.dir, resource).split(path.sep).join("/")}`);
            const generated = resources.length > 0 ? { resources } : { namespace: "_placeholder" };
            await this.writeInCopy(path.join(entry.dir, "kustomization.yaml"), stringify({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", ...generated }));
        } else {
            const document = this.parsed.get(ownFile)?.documents[0];
            const content = isRecord(document) ? (this.options.allowRemote ? document : withoutRemote(document).kept) : {};
            // kustomize refuses an empty kustomization ("kustomization.yaml is empty"); Flux's generator rewrites one
            // without resources with buildMetadata (WriteFile), so it builds (its generators, or nothing).
            if (!Array.isArray(content.resources) || content.resources.length === 0) {
                await this.writeInCopy(ownFile, stringify({ ...content, buildMetadata: ["originAnnotations"] }));
            }
        }
        // Entries of one folder that differ in postBuild only (the root Kustomization, and a Kustomization of the tree
        // with the same path) have one kustomize build; each names generated objects (no origin) after its own file.
        const overlayOf = (overlay: string) => overlayFor(entry.spec, path.relative(overlay, copyDir), copyDir, overlay);
        const same = `${entry.dir}\0${JSON.stringify(overlayOf(path.join(this.work, "overlays", "0")))}`;
        const { overlay, result } = await once(this.kustomizeRuns, same, async () => {
            const index = this.overlays++;
            const overlay = path.join(this.work, "overlays", String(index));
            await mkdir(overlay, { recursive: true });
            await writeFile(path.join(overlay, "kustomization.yaml"), stringify({ ...overlayOf(overlay), labels: [{ pairs: { [OVERLAY_LABEL]: String(index) } }] }));
            return { overlay, result: await this.batches.build({ overlay, index, dir: entry.dir, targetNamespace: entry.spec.targetNamespace }) };
        });
        if (!result.ok) return { ok: false, error: this.fromCopy(result.error) };
        const objects = result.objects.map((object) => ({ object: withoutOrigin(object), file: this.originFile(object, overlay, entry) }));
        if (cacheKey !== undefined) {
            this.options.buildCache!.set(cacheKey, { objects: objects.map(({ object, file }) => ({ object, file: path.relative(this.root, file).split(path.sep).join("/") })) });
        }
        return { ok: true, objects };
    }

    /**
     * The build cache's key of an entry point (buildCache.ts), or undefined where a kept build could be wrong: remote
     * bases fetched, a kustomization field that reads files the validator does not follow, or inputs it cannot read.
     */
    private async buildCacheKey(entry: Entry): Promise<string | undefined> {
        if (this.options.allowRemote) return undefined;
        try {
            const inputs = new Set(await this.inputs(entry.dir));
            const components = Array.isArray(entry.spec.components) ? entry.spec.components.filter((component) => typeof component === "string") : [];
            for (const component of components) for (const file of await this.inputs(path.resolve(entry.dir, component))) inputs.add(file);
            for (const file of inputs) {
                const document = isKustomizationFile(file) ? this.parsed.get(file)?.documents[0] : undefined;
                if (isRecord(document) && UNFOLLOWED_FIELDS.some((field) => field in document)) return undefined;
            }
            const { postBuild: _postBuild, ...fields } = buildFields(entry.spec);
            const digests = await Promise.all([...inputs].map(async (file) => ({ file: path.relative(this.root, file), digest: await this.digest(file) })));
            // entry.file: the objects kustomize generates (no origin) are named after the Flux Kustomization's file.
            return buildKey(path.relative(this.root, entry.dir), [fields, path.relative(this.root, entry.file)], digests);
        } catch {
            return undefined;
        }
    }

    private readonly digests = new Map<string, Promise<string>>();

    /** A file's content hash: the MD5 the caller knows (contentKey), else its sha256; "missing" for no readable file. */
    private digest(file: string): Promise<string> {
        return once(this.digests, file, () => {
            const known = this.options.contentKey?.(file);
            return known !== undefined
                ? Promise.resolve(`md5:${known}`)
                : readFile(file).then(
                      (content) => `sha256:${createHash("sha256").update(content).digest("hex")}`,
                      () => "missing",
                  );
        });
    }

    /** Paths in kustomize's messages name the copy: name the tree's files instead. */
    private fromCopy(message: string): string {
        return message.split(this.copy).join(this.root).split(path.join(this.work, "overlays")).join("(flux overlay)");
    }

    private originFile(object: unknown, overlay: string, entry: Entry): string {
        const metadata = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
        const annotations = isRecord(metadata.annotations) ? metadata.annotations : {};
        const origin = typeof annotations[ORIGIN] === "string" ? parseYaml(annotations[ORIGIN]) : undefined;
        const relative = isRecord(origin) ? (typeof origin.path === "string" ? origin.path : typeof origin.configuredIn === "string" ? origin.configuredIn : undefined) : undefined;
        if (relative === undefined || /^[a-z]+:\/\//.test(relative) || isRecord(origin) && typeof origin.repo === "string") return entry.file;
        const inCopy = path.resolve(overlay, relative);
        const file = path.join(this.root, path.relative(this.copy, inCopy));
        return file.startsWith(this.root) ? file : entry.file;
    }

    /**
     * The values of substituteFrom ConfigMaps that the tree holds in plain text (one of that name, in the Kustomization's
     * namespace or with none set): what the cluster will have once they are applied. A Secret, a ConfigMap the tree
     * does not hold, a SOPS-encrypted one, or a value that is itself a ${VAR} is not known: those stay placeholders.
     */
    private valuesFrom(references: unknown[], namespace: string | undefined): Map<string, string> {
        return once(this.valuesOf, JSON.stringify([references, namespace ?? null]), () => this.findValuesFrom(references, namespace));
    }

    /** valuesFrom's answers by their references and namespace: the same for every object of a build. */
    private readonly valuesOf = new Map<string, Map<string, string>>();

    private findValuesFrom(references: unknown[], namespace: string | undefined): Map<string, string> {
        const values = new Map<string, string>();
        for (const reference of references) {
            if (!isRecord(reference) || reference.kind !== "ConfigMap" || typeof reference.name !== "string") continue;
            const found = [...this.parsed.values()].flatMap((file) =>
                file.documents.filter((document): document is Record<string, unknown> => {
                    if (!isRecord(document) || document.kind !== "ConfigMap" || document.apiVersion !== "v1" || !isRecord(document.metadata)) return false;
                    const { name, namespace: own } = document.metadata;
                    return name === reference.name && (own === undefined || namespace === undefined || own === namespace);
                }),
            );
            if (found.length !== 1 || isSopsEncrypted(found[0]) || !isRecord(found[0].data)) continue;
            for (const [key, value] of Object.entries(found[0].data)) {
                if (typeof value === "string" && !value.includes("${")) values.set(key, value.replace(/\n/g, ""));
            }
        }
        return values;
    }

    /** spec.postBuild of the entry applied to one object, as kustomize-controller does; undefined when it fails (reported). */
    private postBuild(entry: Entry, object: unknown, file: string): unknown {
        const postBuild = isRecord(entry.spec.postBuild) ? entry.spec.postBuild : {};
        const substitute = isRecord(postBuild.substitute) ? postBuild.substitute : {};
        const fromCluster = Array.isArray(postBuild.substituteFrom) && postBuild.substituteFrom.length > 0;
        if (Object.keys(substitute).length === 0 && !fromCluster) return object;
        const metadata = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
        const disabled = (map: unknown) => isRecord(map) && map["kustomize.toolkit.fluxcd.io/substitute"] === "disabled";
        if (disabled(metadata.labels) || disabled(metadata.annotations)) return object;
        // substituteFrom, in order, then substitute over it (kustomize_varsub.go LoadVariables, SubstituteVariables).
        const fromTree = fromCluster ? this.valuesFrom(postBuild.substituteFrom as unknown[], entry.namespace) : new Map<string, string>();
        const vars = new Map([...fromTree, ...Object.entries(substitute).map(([name, value]): [string, string] => [name, String(value).replace(/\n/g, "")])]);
        const label = objectLabel(object);
        for (const name of vars.keys()) {
            if (!/^[_\p{L}][_\p{L}\p{Nd}]*$/u.test(name)) {
                this.report({ file: entry.file, object: entry.object, field: "spec.postBuild.substitute", message: `'${name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'` });
                return undefined;
            }
        }
        // Without a `$` envsubst changes nothing: the object is what it was.
        const json = JSON.stringify(object);
        if (!json.includes("$")) return object;
        // The same object with the same variables substituted before (the YAML round trip is most of a fleet's time).
        const cacheKey = this.options.substituted && createHash("sha256").update(JSON.stringify([json, [...vars], fromCluster])).digest("hex");
        const known = cacheKey === undefined ? undefined : this.options.substituted!.get(cacheKey);
        if (known !== undefined) return known;
        try {
            // No line folding: a long `${VAR:=a default}` stays on one line for envsubst to find.
            const text = envsubst(stringify(object, { lineWidth: 0 }), (name) => [vars.get(name) ?? (fromCluster ? PLACEHOLDER : ""), true]);
            const substituted: unknown = parseYaml(text);
            if (cacheKey !== undefined && substituted !== undefined && jsonSafe([substituted])) this.options.substituted!.set(cacheKey, substituted);
            return substituted;
        } catch (error) {
            const message = error instanceof EnvsubstError ? `variable substitution failed: ${error.message}` : `is not YAML after variable substitution: ${(error as Error).message.split("\n")[0]}`;
            this.problems.push({ file, object: label, field: "", message: `postBuild (${entry.object || "root"}): ${message}` });
            return undefined;
        }
    }
}

/**
 * kustomize wraps an error in each folder it was accumulating ("accumulating resources from 'x': read …: is a
 * directory': recursed accumulation of path '…': "): the reason without the wrapping, and the innermost folder.
 */
export function innermost(error: string): { folder?: string; reason: string } {
    // "recursed merging from path" is a failure of the folder that includes it (two of its inputs collide): stop there.
    const wrapper = /^accumulating resources: accumulation err='accumulating resources from '[^']*': read [^']*: is a directory': recursed accumulation of path '([^']*)': /;
    let reason = error;
    let folder: string | undefined;
    for (let match = wrapper.exec(reason); match; match = wrapper.exec(reason)) {
        folder = match[1];
        reason = reason.slice(match[0].length);
    }
    return { folder, reason };
}

function depth(file: string): number {
    return file.split(path.sep).length;
}

/** The kustomization fields that change objects (rather than only gather them). */
const TRANSFORMING = ["patches", "patchesStrategicMerge", "patchesJson6902", "replacements", "transformers", "components", "images", "replicas", "namespace", "namePrefix", "nameSuffix", "labels", "commonLabels", "commonAnnotations", "vars"];

/** The document of a file a built object came from: same kind and name (or the file's only document of that kind). */
function sourceDocument(documents: unknown[], built: unknown): unknown {
    if (!isRecord(built)) return undefined;
    const sameKind = documents.filter((document) => isRecord(document) && document.kind === built.kind);
    const name = isRecord(built.metadata) ? built.metadata.name : undefined;
    return sameKind.find((document) => isRecord((document as Record<string, unknown>).metadata) && ((document as Record<string, Record<string, unknown>>).metadata.name === name)) ?? (sameKind.length === 1 ? sameKind[0] : undefined);
}

/** The spec fields that change what a path builds into. */
function buildFields(spec: Record<string, unknown>): Record<string, unknown> {
    const { targetNamespace, namePrefix, nameSuffix, patches, images, components, ignoreMissingComponents, postBuild } = spec;
    return { targetNamespace, namePrefix, nameSuffix, patches, images, components, ignoreMissingComponents, postBuild };
}

/** The kustomization that builds `target` (relative to the overlay) with a Flux Kustomization's spec, as WriteFile sets it. */
function overlayFor(spec: Record<string, unknown>, target: string, copyDir: string, overlay: string): Record<string, unknown> {
    const kustomization: Record<string, unknown> = {
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        buildMetadata: ["originAnnotations"],
        resources: [target],
    };
    if (typeof spec.targetNamespace === "string") kustomization.namespace = spec.targetNamespace;
    if (typeof spec.namePrefix === "string") kustomization.namePrefix = spec.namePrefix;
    if (typeof spec.nameSuffix === "string") kustomization.nameSuffix = spec.nameSuffix;
    if (Array.isArray(spec.patches) && spec.patches.length > 0) {
        kustomization.patches = spec.patches.filter(isRecord).map(({ patch, target }) => ({ patch, ...(isRecord(target) ? { target } : {}) }));
    }
    if (Array.isArray(spec.images) && spec.images.length > 0) kustomization.images = spec.images;
    if (Array.isArray(spec.components) && spec.components.length > 0) {
        kustomization.components = spec.components.filter((component): component is string => typeof component === "string").map((component) => path.relative(overlay, path.resolve(copyDir, component)));
    }
    return kustomization;
}

/** The object as the path builds it: without the origin annotation and the overlay label this check added. */
function withoutOrigin(object: unknown): unknown {
    if (!isRecord(object) || !isRecord(object.metadata)) return object;
    let metadata: Record<string, unknown> = object.metadata;
    if (isRecord(metadata.annotations) && ORIGIN in metadata.annotations) {
        const { [ORIGIN]: _origin, ...annotations } = metadata.annotations;
        const { annotations: _all, ...rest } = metadata;
        metadata = Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest;
    }
    if (isRecord(metadata.labels) && OVERLAY_LABEL in metadata.labels) {
        const { [OVERLAY_LABEL]: _overlay, ...labels } = metadata.labels;
        const { labels: _all, ...rest } = metadata;
        metadata = Object.keys(labels).length > 0 ? { ...rest, labels } : rest;
    }
    return { ...object, metadata };
}

function overlayOf(object: unknown): string | undefined {
    const metadata = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
    const labels = isRecord(metadata.labels) ? metadata.labels : {};
    return typeof labels[OVERLAY_LABEL] === "string" ? labels[OVERLAY_LABEL] : undefined;
}

interface BuildRequest {
    overlay: string;
    index: number;
    dir: string;
    targetNamespace: unknown;
    resolve: (result: { ok: true; objects: unknown[] } | { ok: false; error: string }) => void;
}

/**
 * Entry-point builds gathered into one `kubectl kustomize` each (a kustomization listing their overlays): a fleet's
 * Kustomizations are many small builds, and starting kubectl costs more than building one. Builds that arrive
 * within a few milliseconds of each other are batched, no two of one folder or one targetNamespace together (their
 * objects could share a name, which kustomize refuses in one build). A batch that fails is built again one overlay
 * at a time, so that each failure is the entry point's own; the overlay label tells each object's entry point.
 */
class Batches {
    private pending: BuildRequest[] = [];
    private timer: NodeJS.Timeout | undefined;
    private count = 0;
    private readonly dir: string;

    constructor(dir: string) {
        this.dir = dir;
    }

    build(request: Omit<BuildRequest, "resolve">): Promise<{ ok: true; objects: unknown[] } | { ok: false; error: string }> {
        return new Promise((resolve) => {
            this.pending.push({ ...request, resolve });
            this.timer ??= setTimeout(() => this.flush(), 25);
        });
    }

    private flush(): void {
        this.timer = undefined;
        const requests = this.pending;
        this.pending = [];
        const batches: BuildRequest[][] = [];
        for (const request of requests) {
            const fits = (batch: BuildRequest[]) =>
                batch.length < 32 && batch.every((other) => other.dir !== request.dir && String(other.targetNamespace) !== String(request.targetNamespace));
            const batch = batches.find(fits);
            if (batch) batch.push(request);
            else batches.push([request]);
        }
        for (const batch of batches) void this.run(batch);
    }

    private async run(batch: BuildRequest[]): Promise<void> {
        if (batch.length > 1) {
            const dir = path.join(this.dir, String(this.count++));
            await mkdir(dir, { recursive: true });
            // Origins are relative to the top kustomization: this folder is as deep as each overlay, so they read the same.
            await writeFile(path.join(dir, "kustomization.yaml"), stringify({ buildMetadata: ["originAnnotations"], resources: batch.map(({ overlay }) => path.relative(dir, overlay)) }));
            const built = await kustomizeBuild(dir);
            if (built.ok) {
                const objects = parseYamlStream(built.yaml);
                for (const request of batch) request.resolve({ ok: true, objects: objects.filter((object) => overlayOf(object) === String(request.index)) });
                return;
            }
        }
        await Promise.all(
            batch.map(async (request) => {
                const built = await kustomizeBuild(request.overlay);
                request.resolve(built.ok ? { ok: true, objects: parseYamlStream(built.yaml) } : built);
            }),
        );
    }
}

const LIST_FIELDS = ["resources", "bases", "components", "crds"];
const GENERATORS = ["configMapGenerator", "secretGenerator", "helmChartInflationGenerator"];

/** A kustomization without its remote references (URLs, git repositories), and those references. */
export function withoutRemote(content: Record<string, unknown>): { kept: Record<string, unknown>; remote: { field: string; value: string }[] } {
    const remote: { field: string; value: string }[] = [];
    const kept: Record<string, unknown> = { ...content };
    for (const name of LIST_FIELDS) {
        if (!Array.isArray(content[name])) continue;
        kept[name] = content[name].filter((value: unknown, i: number) => {
            if (typeof value === "string" && isRemote(value)) {
                remote.push({ field: `${name}[${i}]`, value });
                return false;
            }
            return true;
        });
    }
    for (const name of GENERATORS) {
        if (!Array.isArray(content[name])) continue;
        kept[name] = content[name].map((generator: unknown, i: number) => {
            if (!isRecord(generator) || !Array.isArray(generator.files)) return generator;
            const files = generator.files.filter((file: unknown, j: number) => {
                const source = typeof file === "string" ? file.slice(file.indexOf("=") + 1) : "";
                if (isRemote(source)) {
                    remote.push({ field: `${name}[${i}].files[${j}]`, value: source });
                    return false;
                }
                return true;
            });
            return { ...generator, files };
        });
    }
    return { kept, remote };
}

async function findKustomizationFile(dir: string): Promise<string | undefined> {
    for (const name of KUSTOMIZATION_FILE_NAMES) {
        if ((await pathKind(path.join(dir, name))) === "file") return path.join(dir, name);
    }
    return undefined;
}

/**
 * What Flux's generator lists for a folder without a kustomization file (scanManifests): every .yaml/.yml file
 * below it, and each sub-folder with a kustomization file as a folder (not descended into), in walk order.
 */
export async function generatedResources(dir: string): Promise<string[]> {
    const found: string[] = [];
    const visit = async (folder: string) => {
        const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const entry of entries) {
            const absolute = path.join(folder, entry.name);
            if (entry.isDirectory()) {
                if (entry.name === ".git") continue;
                if (await findKustomizationFile(absolute)) found.push(absolute);
                else await visit(absolute);
            } else if (/\.ya?ml$/.test(entry.name) && !isKustomizationFile(absolute)) {
                found.push(absolute);
            }
        }
    };
    await visit(dir);
    return found;
}
