import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
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

export async function readTree(root: string): Promise<LocalFile[]> {
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`'${root}' is not a directory: push takes the manifest tree's root`);
    const files: LocalFile[] = [];
    async function walk(dir: string): Promise<void> {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
            const absolute = path.join(dir, entry.name);
            const kind = entry.isSymbolicLink() ? await stat(absolute) : entry;
            if (kind.isDirectory()) {
                if (!SKIPPED_DIRS.has(entry.name)) await walk(absolute);
            } else if (kind.isFile()) {
                const content = await readFile(absolute);
                files.push({
                    relative: path.relative(root, absolute).split(path.sep).join("/"),
                    absolute,
                    size: content.length,
                    md5: createHash("md5").update(content).digest(),
                });
            }
        }
    }
    await walk(root);
    return files.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
}

const CONTENT_TYPES: Record<string, string> = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
};

export function contentType(file: string): string {
    return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}
