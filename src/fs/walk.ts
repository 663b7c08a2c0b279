import { readFileSync } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.ts";
import { mapBounded } from "./bounded.ts";

/**
 * A file of the tree that cannot be uploaded as it is: a dangling symlink, a symlink loop, a symlink out of the
 * tree, or an entry that cannot be read. Bad local input, not a crash: the CLI reports it in one line (exit 2).
 */
export class TreeEntryError extends UserError {
    readonly path: string;

    constructor(entry: string, problem: string) {
        super(`${entry}: ${problem}`, 2);
        this.path = entry;
    }
}

export interface WalkOptions {
    /** Folders not descended into, by name (e.g. `.git`). */
    skipFolder: (name: string) => boolean;
    /** Walk only this folder below `root` (a symlink to a folder of the tree), with `root`'s rules for symlinks. */
    start?: string;
}

/**
 * Every regular file below `root`, sorted, as absolute paths under `root` (symlinks are not resolved in them).
 * Folders are read a bounded number at a time, level by level. Symlinks are followed when they stay inside the
 * tree (their real path is under the root's): such a file is uploaded with its content, as if it were a copy.
 * A symlink out of the tree, a dangling one, a loop, and an unreadable folder are TreeEntryErrors.
 */
export async function walkFiles(root: string, options: WalkOptions): Promise<string[]> {
    const realRoot = await realpath(root);
    const files: string[] = [];
    // Each folder with the real paths of the folders above it, to tell a symlink loop from a second way in.
    let level: { dir: string; ancestors: string[] }[] = [{ dir: root, ancestors: [realRoot] }];
    if (options.start !== undefined) level = [{ dir: options.start, ancestors: [realRoot, (await followLink(options.start, realRoot)).real] }];
    while (level.length > 0) {
        const next: typeof level = [];
        await mapBounded(level, async ({ dir, ancestors }) => {
            for (const entry of await readFolder(dir)) {
                const absolute = path.join(dir, entry.name);
                if (entry.isDirectory()) {
                    if (!options.skipFolder(entry.name)) next.push({ dir: absolute, ancestors: [...ancestors, path.join(ancestors.at(-1)!, entry.name)] });
                } else if (entry.isFile()) {
                    files.push(absolute);
                } else if (entry.isSymbolicLink()) {
                    const target = await followLink(absolute, realRoot);
                    if (target.kind === "file") files.push(absolute);
                    else if (target.kind === "folder" && !options.skipFolder(entry.name)) {
                        if (ancestors.includes(target.real)) throw new TreeEntryError(absolute, "is a symlink loop (it leads back to a folder above it)");
                        next.push({ dir: absolute, ancestors: [...ancestors, target.real] });
                    }
                }
                // Sockets, FIFOs and devices are not manifests: left out, as git would.
            }
        });
        level = next;
    }
    return files.sort();
}

/** Reading a file or folder of the tree, a permission error becomes a TreeEntryError naming it; others pass. */
export async function readInTree<T>(entry: string, read: () => Promise<T>): Promise<T> {
    try {
        return await read();
    } catch (error) {
        throw inTree(entry, error);
    }
}

/** A file of the tree, read synchronously (readFilesInTurn); a permission error becomes a TreeEntryError naming it. */
export function readTreeFile(file: string): Buffer {
    try {
        return readFileSync(file);
    } catch (error) {
        throw inTree(file, error);
    }
}

function inTree(entry: string, error: unknown): unknown {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "EACCES" || code === "EPERM" ? new TreeEntryError(entry, "cannot be read (permission denied)") : error;
}

const readFolder = (dir: string) => readInTree(dir, () => readdir(dir, { withFileTypes: true }));

/** Where a symlink of the tree leads: a TreeEntryError when it dangles, loops or leaves the tree (whose real path is `realRoot`). */
export async function followLink(link: string, realRoot: string): Promise<{ kind: "file" | "folder" | "other"; real: string }> {
    let real: string;
    try {
        real = await realpath(link);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new TreeEntryError(link, "is a dangling symlink (its target does not exist)");
        if (code === "ELOOP") throw new TreeEntryError(link, "is a symlink loop");
        if (code === "EACCES") throw new TreeEntryError(link, "is a symlink whose target cannot be read (permission denied)");
        throw error;
    }
    const relative = path.relative(realRoot, real);
    if (relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
        throw new TreeEntryError(link, `is a symlink out of the tree (to ${real}); only symlinks within the tree are followed`);
    }
    const stats = await stat(real);
    return { kind: stats.isFile() ? "file" : stats.isDirectory() ? "folder" : "other", real };
}
