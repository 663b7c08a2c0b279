import { link, copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { mapBounded } from "../fs/bounded.ts";
import type { ValidateTreeOptions, ValidationReport } from "../validate/index.ts";
import { formatProblem, ManifestValidationError, type Problem } from "../validate/problems.ts";
import { CliError } from "./errors.ts";
import type { LocalFile } from "./tree.ts";
import type { ValidationCache } from "./validationCache.ts";

export interface ValidateManifestsOptions {
    /** Run the kustomize builds (push --skip-build turns them off). */
    build: boolean;
    /** The files of the tree, and which of their keys (prefix + path) Flux will not fetch. */
    files: LocalFile[];
    /** Whether `files` are every file of the folder; when not (Git ignores some), it is validated as a copy of them. */
    complete?: boolean;
    /** Ship plain Secrets and credentials (push --allow-plain-secrets); else they are refused first. */
    allowPlainSecrets?: boolean;
    ignored: (key: string) => boolean;
    /** Skip a tree that passed before with the same content (and remember a pass). */
    cache?: ValidationCache;
    /** How the tree is checked beyond the defaults (push --root-path, --strict, --schema-location, --allow-remote-bases). */
    checks?: ValidationChecks;
    /** Where warnings and notes go (push's log); default: stderr. */
    log?: (line: string) => void;
}

/** The push flags that change what validation checks: part of the validation cache's key. */
export interface ValidationChecks {
    /** The root Kustomization's spec.path (the flux stack's kustomizationPath), prefix included: `./clusters/dev`. */
    rootPath?: string;
    /** An object no schema knows is an error, not a warning. */
    strict?: boolean;
    /** kubeconform-layout schema locations: local directories or `{{ … }}` templates of local files. */
    schemaLocations?: string[];
    /** Let kustomize fetch remote bases and URL resources (reaches the network). */
    allowRemote?: boolean;
    /** The root Kustomization substitutes ${BUCKETOPS_PREFIX} (the flux stack's substitutePrefix). */
    substitutePrefix?: boolean;
}

/**
 * Validates the tree as Flux will see it, with the project's validator (src/validate), before anything is uploaded:
 * files that the root `.sourceignore` or `spec.ignore` hide from Flux are left out (a broken one does not block a
 * push; a Kustomization whose path holds only ignored files is refused). `prefix` is the key prefix the tree is
 * pushed under: Flux keeps it in artifact paths, so every Flux Kustomization path must start with it.
 */
export async function validateManifests(root: string, prefix: string, options: ValidateManifestsOptions): Promise<"validated" | "passed before"> {
    // The secret scan (and loading its rules) runs while the tree is validated; secrets in the clear are reported first.
    const [secrets, validated] = await Promise.allSettled([options.allowPlainSecrets ? Promise.resolve() : scanSecrets(root, prefix, options), validateForFlux(root, prefix, options)]);
    if (secrets.status === "rejected") throw secrets.reason;
    if (validated.status === "rejected") throw validated.reason;
    const seen = options.cache && treeKey(options.cache, options.files, prefix);
    if (seen !== undefined && !options.cache!.passed(seen)) await options.cache!.remember(seen);
    return validated.value;
}

/** Each tree's key, made once: contentIsNew asks for it before validation, validateManifests after (the same files). */
const treeKeys = new WeakMap<LocalFile[], Map<string, string>>();

/** The key of a tree's whole content (every file's path and MD5, Flux-ignored ones too) for a prefix: see contentIsNew. */
function treeKey(cache: ValidationCache, files: LocalFile[], prefix: string): string {
    let byPrefix = treeKeys.get(files);
    if (!byPrefix) treeKeys.set(files, (byPrefix = new Map()));
    let key = byPrefix.get(prefix);
    if (key === undefined) byPrefix.set(prefix, (key = cache.key(files, `tree\n${prefix}`, false)));
    return key;
}

/**
 * Whether this exact content (every file, for this prefix) is new to this machine: no validation of it passed here
 * (validateManifests remembers each that did; it needs nothing from the bucket). Undefined without a cache to tell:
 * --revalidate, or a cache that cannot remember (a read-only cache directory), where every tree would be new and every
 * unchanged push would take and let go of the lease.
 */
export function contentIsNew(files: LocalFile[], prefix: string, cache: ValidationCache | undefined): boolean | undefined {
    if (!cache?.canRemember()) return undefined;
    return !cache.passed(treeKey(cache, files, prefix));
}

/**
 * Starts loading the validator, and the secret scan unless --allow-plain-secrets, when the content may be new
 * (contentIsNew: not false), so that they load while the bucket answers the requests that come before validation.
 * Loading only: what runs, and when, is validateManifests'.
 */
export function preloadValidation(fresh: boolean | undefined, options: Pick<ValidateManifestsOptions, "allowPlainSecrets">): void {
    if (fresh === false) return;
    const loading = [import("../validate/tree.ts"), ...(options.allowPlainSecrets ? [] : [import("../validate/secrets.ts")])];
    for (const load of loading) load.catch(() => undefined);
}

/**
 * Every file shipped, those Flux ignores too (the bucket keeps them, readable by whoever reads the prefix): a plain
 * Secret or a credential is refused. Files whose exact content passed before are not scanned again.
 */
async function scanSecrets(root: string, prefix: string, options: ValidateManifestsOptions): Promise<void> {
    const scanned = options.cache?.key(options.files, `secrets\n${prefix}`, false);
    if (scanned !== undefined && options.cache!.passed(scanned)) return;
    const { findSecrets } = await import("../validate/secrets.ts");
    // A file whose path and content the scan passed before is not read again.
    const clean = options.cache?.cleanOfSecrets(root);
    const md5s = new Map(options.files.map((file) => [file.relative, file.md5.toString("hex")]));
    const keyOf = (file: { relative: string }) => `${file.relative}\0${md5s.get(file.relative)}`;
    const found = await findSecrets(options.files, clean && { known: (file) => clean.get(keyOf(file)) === true, remember: (file) => clean.set(keyOf(file), true) });
    await clean?.save();
    refuseSecrets(root, found);
    if (scanned !== undefined) await options.cache!.remember(scanned);
}

async function validateForFlux(root: string, prefix: string, options: ValidateManifestsOptions): Promise<"validated" | "passed before"> {
    const kept = options.files.filter((file) => !options.ignored(prefix + file.relative));
    const checks = options.checks ?? {};
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    // A remote base may change without the tree changing: a check that fetched one is not remembered.
    const key = checks.allowRemote ? undefined : options.cache?.key(kept, prefix, options.build, checks);
    if (key !== undefined && options.cache!.passed(key)) return "passed before";
    const contents = options.cache?.contents(root);
    const builds = options.cache?.builds();
    const substituted = options.cache?.substitutions(root);
    const checked = options.cache?.checked(root, checks);
    // The tree is validated where it is or as a copy: files are known by their path relative to either.
    const md5s = new Map(kept.map((file) => [file.relative, file.md5.toString("hex")]));
    const parseCache = (dir: string) => contents && { cache: contents, keyOf: (file: string) => md5s.get(path.relative(dir, file).split(path.sep).join("/")) };
    const treeOptions = { prefix, build: options.build, ...checks, buildCache: builds, substituted, checked };
    // The validator (ajv, CEL, YAML, the schema models) is loaded only now: a tree that passed before never needs it.
    const { validateTree } = await import("../validate/tree.ts");
    let whole = false;
    try {
        const report =
            kept.length === options.files.length && options.complete !== false
                ? await validateTree(root, { ...treeOptions, parseCache: parseCache(root) })
                : await validateFilteredCopy(validateTree, root, kept, treeOptions, parseCache);
        whole = true;
        reportWarnings(report, log);
        if (key !== undefined) await options.cache!.remember(key);
        return "validated";
    } catch (error) {
        if (error instanceof ManifestValidationError) {
            throw new CliError(`${root} is not a valid manifest tree, nothing was uploaded:\n${error.message}`);
        }
        throw error;
    } finally {
        await Promise.all([contents?.save(whole), builds?.save(), substituted?.save(whole), checked?.cache.save(whole)]);
    }
}

function refuseSecrets(root: string, problems: Problem[]): void {
    if (problems.length === 0) return;
    const lines = problems.map((problem) => `  ${formatProblem({ ...problem, file: path.join(root, problem.file) })}`);
    throw new CliError(
        `${root} holds ${problems.length} secret(s) in the clear, nothing was uploaded:\n${lines.join("\n")}\n` +
            `(--allow-plain-secrets ships them anyway; if one was pushed before, see 'bucketops purge')`,
    );
}

/** The artifact Flux builds: a copy of the tree with only the kept files (hard links where the disk allows). */
/** Warnings (grouped when one message repeats) and notes of a validation that passed. */
function reportWarnings(report: ValidationReport, log: (line: string) => void): void {
    const shown = report.warnings.slice(0, 20);
    for (const warning of shown) log(`warning: ${formatProblem(warning)}`);
    if (report.warnings.length > shown.length) log(`warning: … and ${report.warnings.length - shown.length} more warning(s) like these`);
    for (const note of report.notes) log(`note: ${note}`);
}

async function validateFilteredCopy(
    validateTree: typeof import("../validate/tree.ts").validateTree,
    root: string,
    kept: LocalFile[],
    options: Omit<ValidateTreeOptions, "parseCache" | "original">,
    parseCache: (dir: string) => ValidateTreeOptions["parseCache"],
): Promise<ValidationReport> {
    const copy = await mkdtemp(path.join(tmpdir(), "bucketops-artifact-"));
    try {
        await mapBounded(kept, async (file) => {
            const target = path.join(copy, ...file.relative.split("/"));
            await mkdir(path.dirname(target), { recursive: true });
            await link(file.absolute, target).catch(() => copyFile(file.absolute, target));
        });
        return await validateTree(copy, { ...options, original: root, parseCache: parseCache(copy) });
    } finally {
        await rm(copy, { recursive: true, force: true });
    }
}
