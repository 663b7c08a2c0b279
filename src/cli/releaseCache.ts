import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { ObjectStore } from "./store/types.ts";
import { defaultDir } from "./validationCache.ts";

/** A record larger than this (a manifest of some thousands of keys) is read from the bucket each time. */
const MAX_CACHED_BYTES = 256 * 1024;

/**
 * The release records this machine has read, by version: a version of an object never changes (S3 version ids, GCS
 * generations), so `history` reads each record from the bucket once and a list of 1,000 releases needs no GET of
 * those it has seen. One file per bucket and record key under the cache directory (`BUCKETOPS_CACHE_DIR`), a JSON
 * line per version, appended; a line that cannot be read is skipped. A version a purge deleted is no longer listed,
 * so its line is never used.
 */
export class ReleaseCache {
    private readonly file: string;
    private known?: Map<string, string>;

    constructor(store: ObjectStore, key: string, dir = defaultDir()) {
        const name = createHash("sha256").update(`${store.description}\n${key}`).digest("hex");
        this.file = path.join(dir, "releases", `${name}.jsonl`);
    }

    /** The cached body of each version there is one for. */
    async load(): Promise<Map<string, string>> {
        if (this.known) return this.known;
        this.known = new Map();
        const text = await readFile(this.file, "utf8").catch(() => "");
        for (const line of text.split("\n")) {
            try {
                const { versionId, body } = JSON.parse(line) as { versionId?: unknown; body?: unknown };
                if (typeof versionId === "string" && typeof body === "string") this.known.set(versionId, body);
            } catch {
                // an empty or torn line
            }
        }
        return this.known;
    }

    /** Keeps the bodies read from the bucket; a cache that cannot be written is no error (the next run reads again). */
    async remember(read: { versionId: string; body: string }[]): Promise<void> {
        const lines = read.filter(({ body }) => body.length <= MAX_CACHED_BYTES).map((entry) => `${JSON.stringify(entry)}\n`);
        if (lines.length === 0) return;
        try {
            await mkdir(path.dirname(this.file), { recursive: true });
            await appendFile(this.file, lines.join(""));
        } catch {
            // read-only or full disk: no cache
        }
    }
}
