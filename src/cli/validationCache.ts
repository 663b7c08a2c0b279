import { createHash, randomUUID } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, type Dirent } from "node:fs";
import type { CachedBuild } from "../validate/buildCache.ts";
import type { KeptWarning } from "../validate/checkCache.ts";
import type { ParsedContent } from "../validate/yamlFiles.ts";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LocalFile } from "./tree.ts";
import type { ValidationChecks } from "./validate.ts";
import { MODEL_PACKAGES } from "../validate/modelPackages.ts";

/**
 * Trees that passed validation, remembered by content: a key is the sha256 of everything validation depends on
 * (each file's path and MD5, the prefix, whether kustomize builds ran, the validator's code and schema packages,
 * and which kubectl builds), so a key can only ever mean "this exact input passed this exact validator" and
 * needs no invalidation. Only passes are remembered: a failing tree is validated again to print its problems.
 * Each entry is an empty file written under a temporary name and renamed, so concurrent runs never see half of one.
 */
export class ValidationCache {
    private readonly dir: string;
    private writable?: boolean;

    constructor(dir = defaultDir()) {
        this.dir = dir;
    }

    /**
     * Whether this cache can remember a pass: its folder of passes exists or can be made, and may be written. One
     * that cannot (a read-only home, a cache directory on a read-only file system) knows no tree; validation then runs
     * every time, and nothing can be called new to this machine (contentIsNew).
     */
    canRemember(): boolean {
        if (this.writable === undefined) {
            const passes = path.join(this.dir, "validated");
            try {
                mkdirSync(passes, { recursive: true });
                accessSync(passes, constants.W_OK);
                this.writable = true;
            } catch {
                this.writable = false;
            }
        }
        return this.writable;
    }

    /** The key of validating `files` (the ones Flux will fetch) for `prefix`, with or without the builds. */
    key(files: LocalFile[], prefix: string, build: boolean, checks: ValidationChecks = {}): string {
        const hash = createHash("sha256").update(`${validatorIdentity()}\n${prefix}\n${build}\n`);
        // The flags that change the outcome, and the content of the user's schema files they name.
        hash.update(`${JSON.stringify([checks.rootPath ?? null, checks.strict ?? false, checks.substitutePrefix ?? false])}\n`);
        for (const location of checks.schemaLocations ?? []) hash.update(`${location}\0${schemaFilesDigest(location)}\n`);
        for (const file of [...files].sort((a, b) => (a.relative < b.relative ? -1 : 1))) {
            hash.update(`${file.relative}\0${file.md5.toString("hex")}\n`);
        }
        return hash.digest("hex");
    }

    /** The key of checking these objects on their own (validateObjects: what a render applies), by their JSON. */
    objectsKey(objects: unknown): string {
        return createHash("sha256").update(`${validatorIdentity()}\nobjects\n${JSON.stringify(objects)}`).digest("hex");
    }

    passed(key: string): boolean {
        return existsSync(this.entry(key));
    }

    /**
     * Remembers a pass; a cache that cannot be written only costs the next run its validation. The passes kept are
     * bounded (MAX_PASSES): past it, the oldest in the new pass's folder go.
     */
    async remember(key: string): Promise<void> {
        try {
            await writeWhole(this.entry(key), "");
            await keepNewest(path.dirname(this.entry(key)), MAX_PASSES, PASSES_KEPT, (entry) => !entry.name.endsWith(".tmp"));
        } catch {
            // e.g. a read-only home: validation simply runs every time.
        }
    }

    private entry(key: string): string {
        return path.join(this.dir, "validated", key.slice(0, 2), key);
    }

    /**
     * The parsed files of the tree at `tree` by content (validateTree's parseCache), for this validator identity: a
     * tree with one file changed parses and schema-checks that file only. `save` writes it back.
     */
    contents(tree: string): EntryCache<ParsedContent> {
        return new EntryCache(this.treeFile("parsed", tree), MAX_CONTENTS, MAX_TREES, this.keepIdentities("parsed"));
    }

    /**
     * The files of the tree at `tree` that the secret scan found clean, by path and content (`${relative}\0${md5}`:
     * some rules look at the file name), for this validator identity: a tree with one file changed is scanned in that file.
     */
    cleanOfSecrets(tree: string): EntryCache<true> {
        return new EntryCache(this.treeFile("secrets", tree), MAX_CONTENTS, MAX_TREES, this.keepIdentities("secrets"));
    }

    /**
     * The tree's objects after postBuild substitution, by the object and its variables (validateTree's substituted),
     * for this validator identity: a fleet's one-change push does kustomize-controller's YAML round trip only for what changed.
     */
    substitutions(tree: string): EntryCache<unknown> {
        return new EntryCache(this.treeFile("substituted", tree), MAX_SUBSTITUTED, MAX_TREES, this.keepIdentities("substituted"));
    }

    /**
     * What `kubectl kustomize` built, by everything each build read (validateTree's buildCache), for this validator
     * identity (kubectl's included): a tree with one file changed runs kustomize only where that file is read.
     */
    builds(): FileEntryCache<CachedBuild> {
        return new FileEntryCache(path.join(this.dir, "builds", validatorIdentity()), MAX_BUILDS, this.keepIdentities("builds"));
    }

    /**
     * The objects whose schema check passed, with its warnings, by everything the check depends on (validateTree's
     * checked; src/validate/checkCache.ts): this validator identity, and the content of the user's schema files named
     * by --schema-location (validateTree adds --strict, the tree's CRDs and the object). A tree with one change
     * checks, and loads the models of, only the objects that changed.
     */
    checked(tree: string, checks: ValidationChecks = {}): { cache: EntryCache<KeptWarning[]>; context: string } {
        const context = createHash("sha256").update(`${validatorIdentity()}\n`);
        for (const location of checks.schemaLocations ?? []) context.update(`${location}\0${schemaFilesDigest(location)}\n`);
        return { cache: new EntryCache(this.treeFile("checked", tree), MAX_CHECKED, MAX_TREES, this.keepIdentities("checked")), context: context.digest("hex") };
    }

    /**
     * `<kind>/<validator identity>/<tree>.json`: a file per tree (by its real path), so that a run reads what its own
     * tree left and not what every tree validated on this machine did (one file for all trees made an edit's push of a
     * small tree pay for every other tree: BENCHMARKS.md, "Seventh pass", has the figures).
     */
    private treeFile(kind: string, tree: string): string {
        return path.join(this.dir, kind, validatorIdentity(), `${treeName(tree)}.json`);
    }

    /**
     * What a cache of `kind` does after it wrote: removes the folders (`<kind>/<validator identity>/`) of all
     * identities but this run's and the MAX_IDENTITIES - 1 others written last. Another bucketops, schema package or
     * kubectl is another identity, whose caches this one never reads: without this each upgrade left a full set.
     */
    private keepIdentities(kind: string): () => Promise<void> {
        const others = (entry: Dirent) => entry.isDirectory() && entry.name !== validatorIdentity();
        return () => keepNewest(path.join(this.dir, kind), MAX_IDENTITIES - 1, MAX_IDENTITIES - 1, others);
    }
}

/** A tree's name in the per-tree caches: the sha256 of its real path (the same tree however the command line names it). */
function treeName(tree: string): string {
    let real = path.resolve(tree);
    try {
        real = realpathSync(real);
    } catch {
        // not there (any more): its path as given
    }
    return createHash("sha256").update(real).digest("hex").slice(0, 32);
}

/** At most this many contents are kept: about 10 MB of JSON for small manifests; the newest stay. */
const MAX_CONTENTS = 25_000;
/** At most this many substituted objects are kept (a few KB each): the newest stay. */
const MAX_SUBSTITUTED = 5_000;
/** At most this many checked objects are kept (about 75 bytes each: a key and, mostly, no warning); the newest stay. */
const MAX_CHECKED = 25_000;
/** At most this many builds are kept (a fleet has tens to hundreds of kustomize builds); the newest stay. */
const MAX_BUILDS = 1_000;
/** At most this many trees keep their files in each per-tree cache (EntryCache); those validated last stay. */
const MAX_TREES = 50;
/**
 * Passes kept in each of `validated/`'s 256 folders (by a key's first two hex digits), about 16,000 in all: past it,
 * the oldest of the folder go, down to PASSES_KEPT (so that a folder is not sorted at every pass). A tree whose pass
 * went is validated once more when it is pushed again.
 */
const MAX_PASSES = 64;
const PASSES_KEPT = 48;
/** The validator identities whose per-identity caches (parses, scans, substitutions, checks, builds) are kept. */
const MAX_IDENTITIES = 3;

/**
 * One tree's entries by key, read from one JSON file at the start of a run and written back (temporary name, then
 * rename) at its end: the parse cache (a ParseCache), the files the secret scan found clean, substituted and checked
 * objects. `save` after a whole run keeps what the run used and, of the rest, the newest, as many again (what an edit
 * replaced, for an edit taken back): however often a tree is edited, its file stays about its size, and is read whole by
 * each run that validates it. The folder keeps the files of the `trees` trees validated last.
 */
export class EntryCache<T> {
    private readonly file: string;
    private readonly entries: Map<string, T>;
    private readonly used = new Set<string>();
    private changed = false;

    private readonly max: number;
    private readonly trees: number;
    private readonly afterSave?: () => Promise<void>;

    /** `afterSave`: what runs once the file is written (ValidationCache's pruning of other validator identities). */
    constructor(file: string, max = MAX_CONTENTS, trees = MAX_TREES, afterSave?: () => Promise<void>) {
        this.file = file;
        this.max = max;
        this.trees = trees;
        this.afterSave = afterSave;
        this.entries = new Map(readEntries<T>(file));
    }

    get(key: string): T | undefined {
        const content = this.entries.get(key);
        if (content !== undefined) this.used.add(key);
        return content;
    }

    set(key: string, content: T): void {
        this.entries.delete(key); // re-inserted last: the newest
        this.entries.set(key, content);
        this.used.add(key);
        this.changed = true;
    }

    /**
     * Writes the contents back if this run added any; a cache that cannot be written only costs the next run its
     * parsing. `whole`: the run went through the tree (a validation that failed may have stopped short of some of it,
     * whose entries then stay).
     */
    async save(whole = true): Promise<void> {
        if (!this.changed) return;
        const all = [...this.entries];
        const used = all.filter(([key]) => this.used.has(key));
        const rest = all.filter(([key]) => !this.used.has(key));
        const kept = (whole ? [...rest.slice(Math.max(0, rest.length - used.length)), ...used] : all).slice(-this.max);
        try {
            await writeWhole(this.file, JSON.stringify(kept));
            await keepNewest(path.dirname(this.file), this.trees);
            await this.afterSave?.();
        } catch {
            // e.g. a read-only home
        }
    }
}

/**
 * Entries by key, one JSON file each in a folder: for entries too large to read all of at every run (builds). An
 * entry is read when asked for; `save` writes the new ones (temporary name, then rename) and keeps the newest `max`.
 */
export class FileEntryCache<T> {
    private readonly dir: string;
    private readonly max: number;
    private readonly added = new Map<string, T>();
    private readonly afterSave?: () => Promise<void>;

    constructor(dir: string, max: number, afterSave?: () => Promise<void>) {
        this.dir = dir;
        this.max = max;
        this.afterSave = afterSave;
    }

    get(key: string): T | undefined {
        if (this.added.has(key)) return this.added.get(key);
        try {
            return JSON.parse(readFileSync(path.join(this.dir, `${key}.json`), "utf8")) as T;
        } catch {
            return undefined; // not kept, or unreadable
        }
    }

    set(key: string, content: T): void {
        this.added.set(key, content);
    }

    async save(): Promise<void> {
        if (this.added.size === 0) return;
        try {
            for (const [key, content] of this.added) await writeWhole(path.join(this.dir, `${key}.json`), JSON.stringify(content));
            await keepNewest(this.dir, this.max);
            await this.afterSave?.();
        } catch {
            // e.g. a read-only home: the next run builds again
        }
    }
}

/**
 * When `dir` holds more than `max` of the entries `counts` picks (its `.json` files unless told), removes all but the
 * `keep` newest (last written) of them, folders with what they hold.
 */
async function keepNewest(dir: string, max: number, keep = max, counts = (entry: Dirent) => entry.name.endsWith(".json")): Promise<void> {
    const names = (await readdir(dir, { withFileTypes: true })).filter(counts).map((entry) => entry.name);
    if (names.length <= max) return;
    const aged = await Promise.all(names.map(async (name) => ({ name, time: (await stat(path.join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.time - b.time);
    await Promise.all(aged.slice(0, aged.length - keep).map(({ name }) => rm(path.join(dir, name), { recursive: true, force: true })));
}

/** Writes a cache file under a temporary name, then renames it: concurrent runs never read half of one. */
async function writeWhole(file: string, content: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${randomUUID()}.tmp`;
    await writeFile(temporary, content);
    await rename(temporary, file);
}

function readEntries<T>(file: string): [string, T][] {
    try {
        const entries: unknown = JSON.parse(readFileSync(file, "utf8"));
        return Array.isArray(entries) ? (entries as [string, T][]) : [];
    } catch {
        return []; // none yet, or unreadable: start empty
    }
}

/** `BUCKETOPS_CACHE_DIR`, else the user's cache directory (XDG_CACHE_HOME or ~/.cache) / bucketops. */
export function defaultDir(): string {
    return process.env.BUCKETOPS_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "bucketops");
}

let identity: string | undefined;

/**
 * What a validation's outcome depends on besides the tree: the validator's source (src/validate), the versions of
 * the schema packages, of the YAML parser and of the secret-scanning packages, and the kubectl that runs the builds (its path, size and modification time).
 */
function validatorIdentity(): string {
    if (identity !== undefined) return identity;
    const hash = createHash("sha256");
    const validator = path.resolve(import.meta.dirname, "../validate");
    for (const name of (readdirSync(validator, { recursive: true }) as string[]).sort()) {
        const file = path.join(validator, name);
        if (statSync(file).isFile()) hash.update(name).update(readFileSync(file));
    }
    for (const schemas of [...MODEL_PACKAGES, "yaml", "@secretlint/core", "@secretlint/secretlint-rule-preset-recommend"]) {
        const manifest = path.resolve(import.meta.dirname, "../../node_modules", schemas, "package.json");
        hash.update(`${schemas}@${existsSync(manifest) ? JSON.parse(readFileSync(manifest, "utf8")).version : "?"}\n`);
    }
    const kubectl = resolveOnPath(process.env.KUBECTL ?? "kubectl");
    const stat = kubectl ? statSync(kubectl) : undefined;
    hash.update(`${kubectl}\0${stat?.size}\0${stat?.mtimeMs}\n`);
    identity = hash.digest("hex");
    return identity;
}

function resolveOnPath(command: string): string | undefined {
    if (command.includes("/")) return existsSync(command) ? path.resolve(command) : undefined;
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const candidate = path.join(dir, command);
        if (existsSync(candidate)) return candidate;
    }
    return undefined;
}

/** The names, sizes and modification times of the files under a schema location (its directory part, for a template). */
function schemaFilesDigest(location: string): string {
    const dir = location.includes("{{") ? location.slice(0, location.indexOf("{{")).replace(/[^/]*$/, "") : location;
    const hash = createHash("sha256");
    try {
        for (const name of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
            const stat = statSync(path.join(dir, name));
            if (stat.isFile()) hash.update(`${name}\0${stat.size}\0${stat.mtimeMs}\n`);
        }
    } catch {
        hash.update("unreadable");
    }
    return hash.digest("hex");
}
