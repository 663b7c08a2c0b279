import { readFileSync } from "node:fs";
import pLimit from "p-limit";
import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * How many files are open at once in any fan-out over a tree (parsing, scanning, listing folders; the tree's own
 * reading for its MD5s is readFilesInTurn, one file at a time).
 * Far below the usual descriptor limits (macOS 256, Linux 1,024), whatever the size of the tree.
 */
export const FILE_CONCURRENCY = 32;

/** How long reading files in turn (readFilesInTurn) holds the event loop before it lets the rest run. */
const TURN_MS = 2;

/**
 * `files.map((file) => use(file, content))` over each file's content, read synchronously one after the other and
 * handed to `use` at once (so only one file's content is held at a time), letting the event loop run every couple of
 * milliseconds (a request's answer is read meanwhile). For many small files of a local disk this takes a fifth of
 * the time of promise-based reads (2,000 files of a few hundred bytes, hashed: 25 ms against 125–215 ms here): each
 * of those costs a trip through libuv's thread pool and a promise, which cost more than the read itself. `read`
 * wraps each read (e.g. to name the file in an error).
 */
export async function readFilesInTurn<R>(files: readonly string[], use: (file: string, content: Buffer) => R, read: (file: string) => Buffer = readFileSync): Promise<R[]> {
    const results: R[] = [];
    let turn = performance.now();
    for (const file of files) {
        results.push(use(file, read(file)));
        if (performance.now() - turn > TURN_MS) {
            await nextTurn();
            turn = performance.now();
        }
    }
    return results;
}

/** `Promise.all(items.map(fn))` with at most `limit` calls of `fn` in flight; results in the order of `items`. */
export function mapBounded<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, limit = FILE_CONCURRENCY): Promise<R[]> {
    const run = pLimit(limit);
    return Promise.all(items.map((item) => run(() => fn(item))));
}
