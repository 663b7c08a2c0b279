import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { isBucketopsKey, normalizePrefix } from "../bucket/keys.ts";
import { mapBounded } from "../fs/bounded.ts";
import { kustomizeBuild } from "../validate/kustomize.ts";
import { KUSTOMIZATION_FILE_NAMES } from "../validate/kustomizationFile.ts";
import { treeEntryPoints } from "../validate/tree.ts";
import { loadHistory, type State } from "./history.ts";
import { resolveTarget } from "./rollback.ts";
import type { ObjectStore } from "./store/types.ts";
import { readTree } from "./tree.ts";

/** One side of a diff: each key below the prefix (relative to it) and how to read its content. */
type Side = Map<string, { md5?: string; read: () => Promise<Buffer> }>;

export interface DiffOptions {
    /** Diff what kustomize builds from each entry-point kustomization of both sides, instead of the files. */
    rendered: boolean;
    /** ANSI colours (a terminal). */
    color: boolean;
    /** The tree's files Git ignores too, as push --include-ignored ships them. */
    includeIgnored?: boolean;
    log: (line: string) => void;
}

/**
 * `bucketops diff <dir> <url>`: what a push of `dir` would change under the URL's prefix, as a unified diff per key
 * (`a/` the bucket, `b/` the tree), like `git diff`. Returns whether anything differs.
 */
export async function diffTree(dir: string, store: ObjectStore, options: DiffOptions): Promise<boolean> {
    const prefix = normalizePrefix(store.url.prefix);
    const local: Side = new Map((await readTree(dir, { includeIgnored: options.includeIgnored })).files.map((file) => [file.relative, { md5: file.md5.toString("hex"), read: () => readFile(file.absolute) }]));
    const remote: Side = new Map(
        (await store.list(prefix))
            .filter((entry) => !isBucketopsKey(entry.key))
            .map((entry) => [entry.key.slice(prefix.length), { md5: entry.md5, read: async () => (await store.get(entry.key)) ?? Buffer.alloc(0) }]),
    );
    return compare(remote, local, options);
}

/** `bucketops diff <url> --from <rev|time> --to <rev|time>`: two states of the prefix's history. */
export async function diffStates(store: ObjectStore, from: string, to: string, specIgnore: string | undefined, options: DiffOptions): Promise<boolean> {
    const states = await loadHistory(store, specIgnore, options.log);
    return compare(stateSide(store, resolveTarget(states, from, "--from")), stateSide(store, resolveTarget(states, to, "--to")), options);
}

/**
 * `bucketops diff <url-a> <url-b>`: two environments (prefixes), each at its current state or at the release
 * `--from` (of a) and `--to` (of b) name, keys compared relative to each prefix: what a promotion from a to b changes.
 */
export async function diffEnvironments(a: ObjectStore, b: ObjectStore, from: string | undefined, to: string | undefined, specIgnore: string | undefined, options: DiffOptions): Promise<boolean> {
    const side = async (store: ObjectStore, release: string | undefined, flag: string): Promise<Side> => {
        const states = await loadHistory(store, specIgnore, options.log);
        if (states.length === 0) return new Map();
        return stateSide(store, release === undefined ? states.at(-1)! : resolveTarget(states, release, flag));
    };
    const [before, after] = await Promise.all([side(a, from, "--from"), side(b, to, "--to")]);
    return compare(before, after, options);
}

/** One state's objects, by key below the prefix, each read at its version. */
function stateSide(store: ObjectStore, state: State): Side {
    const prefix = normalizePrefix(store.url.prefix);
    return new Map(
        [...state.objects].map(([key, version]) => [key.slice(prefix.length), { md5: version.md5, read: async () => (await store.get(key, version.versionId)) ?? Buffer.alloc(0) }]),
    );
}

async function compare(before: Side, after: Side, options: DiffOptions): Promise<boolean> {
    if (options.rendered) return compareRendered(before, after, options);
    const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
    const changed = keys.filter((key) => {
        const [a, b] = [before.get(key), after.get(key)];
        return !a || !b || a.md5 === undefined || a.md5 !== b.md5;
    });
    // Read 8 at a time, printed in key order.
    return print(await mapBounded(changed, async (key) => patch(key, await before.get(key)?.read(), await after.get(key)?.read()), 8), options);
}

/** Each side written to a folder, and the kustomize build of every entry-point kustomization of either, diffed per folder. */
async function compareRendered(before: Side, after: Side, options: DiffOptions): Promise<boolean> {
    const scratch = await mkdtemp(path.join(tmpdir(), "bucketops-diff-"));
    try {
        const [a, b] = await Promise.all([materialize(before, path.join(scratch, "a")), materialize(after, path.join(scratch, "b"))]);
        const roots = [...new Set([...(await treeEntryPoints(a)), ...(await treeEntryPoints(b))])].sort();
        // A folder without a kustomization on one side is /dev/null there (added or removed).
        const build = async (root: string, dir: string) => {
            if (!KUSTOMIZATION_FILE_NAMES.some((name) => existsSync(path.join(dir, root, name)))) return undefined;
            const result = await kustomizeBuild(path.join(dir, root));
            return Buffer.from(result.ok ? result.yaml : `# kustomize build failed: ${result.error}\n`);
        };
        const patches: string[] = [];
        for (const root of roots) patches.push(patch(`${root === "" ? "." : root} (kustomize build)`, await build(root, a), await build(root, b)));
        return print(patches, options);
    } finally {
        await rm(scratch, { recursive: true, force: true });
    }
}

/** Prints the patches (coloured on a terminal); whether there was any. */
function print(patches: string[], options: DiffOptions): boolean {
    const differing = patches.filter((text) => text !== "");
    for (const text of differing) {
        for (const line of text.split("\n").slice(0, -1)) options.log(options.color ? colored(line) : line);
    }
    return differing.length > 0;
}

async function materialize(side: Side, dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    await mapBounded([...side], async ([key, { read }]) => {
        const target = path.join(dir, ...key.split("/"));
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, await read());
    });
    return dir;
}

/** A git-style unified diff of one key ("" when equal); /dev/null for a side without it. */
function patch(key: string, before: Buffer | undefined, after: Buffer | undefined): string {
    if (before && after && before.equals(after)) return "";
    const [a, b] = [before ? `a/${key}` : "/dev/null", after ? `b/${key}` : "/dev/null"];
    if ([before, after].some((content) => content?.includes(0))) return `diff a/${key} b/${key}\nBinary files ${a} and ${b} differ\n`;
    const text = createTwoFilesPatch(a, b, before?.toString("utf8") ?? "", after?.toString("utf8") ?? "", undefined, undefined, { context: 3 });
    // jsdiff starts with an "Index:"-less "===" line; git's header is the diff line.
    return `diff a/${key} b/${key}\n${text.split("\n").filter((line) => !/^=+$/.test(line)).join("\n")}`;
}

function colored(line: string): string {
    if (line.startsWith("diff ") || line.startsWith("--- ") || line.startsWith("+++ ")) return `\x1b[1m${line}\x1b[0m`;
    if (line.startsWith("@@")) return `\x1b[36m${line}\x1b[0m`;
    if (line.startsWith("+")) return `\x1b[32m${line}\x1b[0m`;
    if (line.startsWith("-")) return `\x1b[31m${line}\x1b[0m`;
    return line;
}
