import { createHash } from "node:crypto";
import { BUCKETOPS_IGNORE, compareKeys, SOURCEIGNORE } from "../bucket/keys.ts";
import { ignoreMatcher, readPatterns } from "./sourceignore.ts";
import type { ObjectEntry, ObjectStore } from "./store/types.ts";

export interface KeyEtag {
    key: string;
    etag: string;
}

/**
 * The revision source-controller reports for a Bucket (fetchEtagIndex + index.Digester):
 * skip keys ending in '/' and the root `.sourceignore` itself, skip ignored keys (matched on the
 * FULL key, prefix included), then sha256 over "key etag\n" lines sorted bytewise by key.
 * No default ignore list applies to Buckets.
 */
export function fluxRevision(objects: Iterable<KeyEtag>, ignorePatterns: string[]): string {
    return digestIndex(fluxIndex(objects, ignorePatterns));
}

/** The key → etag index source-controller builds (the keys it will fetch). */
export function fluxIndex(objects: Iterable<KeyEtag>, ignorePatterns: string[], ignored = ignoreMatcher(ignorePatterns)): Map<string, string> {
    const index = new Map<string, string>();
    for (const { key, etag } of objects) {
        if (key.endsWith("/") || key === SOURCEIGNORE || ignored(key)) continue;
        index.set(key, etag);
    }
    return index;
}

export function digestIndex(index: Map<string, string>): string {
    const hash = createHash("sha256");
    for (const key of sortBytewise(index.keys())) hash.update(`${key} ${index.get(key)}\n`);
    return `sha256:${hash.digest("hex")}`;
}

/** Go's sort.Strings order: by UTF-8 bytes (compareKeys), which differs from JavaScript's UTF-16 order above U+FFFF. */
export function sortBytewise(keys: Iterable<string>): string[] {
    return [...keys].sort(compareKeys);
}

/**
 * Patterns in Flux's order: the bucket root's `.sourceignore`, then `spec.ignore` (which wins). The flux stack's
 * Bucket ends its `spec.ignore` with BUCKETOPS_IGNORE, so every revision here does too.
 */
export function ignorePatterns(sourceignore: Buffer | undefined, specIgnore: string | undefined): string[] {
    return [...readPatterns(sourceignore?.toString("utf8") ?? ""), ...readPatterns(specIgnore ?? ""), ...readPatterns(BUCKETOPS_IGNORE)];
}

/** What Flux would report right now for a Bucket with this `spec.prefix` and `spec.ignore`. */
export async function currentRevision(
    store: ObjectStore,
    prefix: string,
    specIgnore?: string,
): Promise<{ revision: string; indexed: number }> {
    const [sourceignore, objects] = await Promise.all([store.get(SOURCEIGNORE), store.list(prefix)]);
    const index = fluxIndex(objects, ignorePatterns(sourceignore, specIgnore));
    return { revision: digestIndex(index), indexed: index.size };
}

/** Flux's index and revision of listings, each computed once per listing (see fluxRevisions). */
export interface FluxRevisions {
    index(objects: ObjectEntry[]): Map<string, string>;
    revision(objects: ObjectEntry[]): string;
    /** Whether the patterns hide this key from Flux (each key matched once). */
    ignored(key: string): boolean;
}

/**
 * Flux's index and revision of each listing a write handles, computed once per listing: the record, the result and
 * --rollback-on-failure all ask for them, and matching a large prefix's keys against the ignore patterns is the cost.
 * Each key is matched once, whatever the listings it is in (the listing before a write and the objects after it
 * share most keys).
 */
export function fluxRevisions(patterns: string[]): FluxRevisions {
    const indexes = new WeakMap<ObjectEntry[], Map<string, string>>();
    const digests = new WeakMap<ObjectEntry[], string>();
    const matches = ignoreMatcher(patterns);
    const matched = new Map<string, boolean>();
    const ignored = (key: string) => {
        let known = matched.get(key);
        if (known === undefined) matched.set(key, (known = matches(key)));
        return known;
    };
    const index = (objects: ObjectEntry[]) => {
        let known = indexes.get(objects);
        if (!known) indexes.set(objects, (known = fluxIndex(objects, patterns, ignored)));
        return known;
    };
    const revision = (objects: ObjectEntry[]) => {
        let known = digests.get(objects);
        if (!known) digests.set(objects, (known = digestIndex(index(objects))));
        return known;
    };
    return { index, revision, ignored };
}
