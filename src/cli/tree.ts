import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import { readFilesInTurn } from "../fs/bounded.ts";
import { gitListing, gitTreeFiles } from "../fs/gitFiles.ts";
import { readTreeFile, walkFiles } from "../fs/walk.ts";
import { UsageError } from "./errors.ts";

/** A file of the local manifest tree. */
export interface LocalFile {
    /** Path relative to the tree root, '/'-separated: the key below the prefix. */
    relative: string;
    absolute: string;
    size: number;
    md5: Buffer;
}

/** Directories never uploaded: version-control metadata. */
const SKIPPED_DIRS = new Set([".git"]);

/** The files a push ships from a folder, and what was left out of them. */
export interface LocalTree {
    files: LocalFile[];
    /**
     * How the set was chosen: `git`, what Git would commit (the tree is in a Git work tree); `all`, every file (outside
     * Git, or --include-ignored).
     */
    source: "git" | "all";
    /** Whether the tree is in a Git work tree (unknown with --include-ignored, which does not ask Git). */
    inGit?: boolean;
    /** Paths below the root that Git ignores, left out (a folder ends in '/'; "./" when Git ignores the root itself). */
    ignored: string[];
    /** Submodules and nested repositories, left out: a commit holds a link to them, not their files. */
    nestedRepositories: string[];
}

export interface ReadTreeOptions {
    /** Ship every file, what Git ignores too (push --include-ignored): today's walk, Git is not asked. */
    includeIgnored?: boolean;
}

/**
 * The files of the tree with their MD5s, read one after the other (readFilesInTurn): the one place that says which
 * files of a folder push, diff, validation and the release record see. In a Git work tree they are what Git would commit
 * (see gitTreeFiles); elsewhere, or with `includeIgnored`, every file below the root but `.git/` (see src/fs/walk.ts
 * for symlinks). Only the digests are kept, so memory grows with the number of files, not their size.
 */
export async function readTree(root: string, options: ReadTreeOptions = {}): Promise<LocalTree> {
    // Git starts at once (its processes run while this one loads the rest); its answer counts only for a directory.
    const asked = options.includeIgnored ? undefined : gitListing(root);
    asked?.catch(() => undefined);
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`'${root}' is not a directory: push takes the manifest tree's root`);
    const listing = await asked;
    const chosen = listing
        ? { source: "git" as const, inGit: true, ...(await gitTreeFiles(root, listing, SKIPPED_DIRS)) }
        : { source: "all" as const, inGit: options.includeIgnored ? undefined : false, paths: await walkFiles(root, { skipFolder: (name) => SKIPPED_DIRS.has(name) }), ignored: [], nestedRepositories: [] };
    const relative = (absolute: string) => path.relative(root, absolute).split(path.sep).join("/");
    const files = await readFilesInTurn(
        chosen.paths,
        (absolute, content) => ({ relative: relative(absolute), absolute, size: content.length, md5: createHash("md5").update(content).digest() }),
        readTreeFile,
    );
    return { files, source: chosen.source, inGit: chosen.inGit, ignored: chosen.ignored, nestedRepositories: chosen.nestedRepositories };
}

/** What the push says about the set it ships: what Git ignores and was left out, or why every file is shipped. */
export function describeTree(dir: string, tree: LocalTree): string[] {
    if (tree.source === "all") {
        return tree.inGit === false
            ? [`note: ${dir} is in no Git work tree: every file in it is shipped (no .gitignore applies); make sure none holds a secret`]
            : [`note: --include-ignored: every file in ${dir} is shipped, those Git ignores too`];
    }
    const lines: string[] = [];
    if (tree.ignored.length > 0) {
        const shown = tree.ignored.slice(0, 10).join(", ");
        lines.push(
            `left out ${tree.ignored.length} path(s) in ${dir} that Git ignores: ${shown}${tree.ignored.length > 10 ? ", …" : ""} ` +
                `(--include-ignored ships them)`,
        );
    }
    if (tree.nestedRepositories.length > 0) {
        lines.push(`left out ${tree.nestedRepositories.length} submodule(s) or nested repositories, whose files a commit does not hold: ${tree.nestedRepositories.join(", ")}`);
    }
    return lines;
}

const CONTENT_TYPES: Record<string, string> = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
};

export function contentType(file: string): string {
    return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}
