import pLimit from "p-limit";

/**
 * How many files are open at once in any fan-out over a tree (reading, hashing, parsing, listing folders).
 * Far below the usual descriptor limits (macOS 256, Linux 1,024), whatever the size of the tree.
 */
export const FILE_CONCURRENCY = 32;

/** `Promise.all(items.map(fn))` with at most `limit` calls of `fn` in flight; results in the order of `items`. */
export function mapBounded<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, limit = FILE_CONCURRENCY): Promise<R[]> {
    const run = pLimit(limit);
    return Promise.all(items.map((item) => run(() => fn(item))));
}
