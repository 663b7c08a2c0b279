import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { mapBounded } from "../fs/bounded.ts";
import { readInTree, walkFiles } from "../fs/walk.ts";
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

/**
 * The files of the tree with their MD5s, read a bounded number at a time (see src/fs/walk.ts for symlinks).
 * Only the digests are kept, so memory grows with the number of files, not their size.
 */
export async function readTree(root: string): Promise<LocalFile[]> {
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`'${root}' is not a directory: push takes the manifest tree's root`);
    const paths = await walkFiles(root, { skipFolder: (name) => SKIPPED_DIRS.has(name) });
    return mapBounded(paths, async (absolute) => {
        const content = await readInTree(absolute, () => readFile(absolute));
        return {
            relative: path.relative(root, absolute).split(path.sep).join("/"),
            absolute,
            size: content.length,
            md5: createHash("md5").update(content).digest(),
        };
    });
}

const CONTENT_TYPES: Record<string, string> = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
};

export function contentType(file: string): string {
    return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}
