import { compareKeys } from "../../bucket/keys.ts";

/**
 * The keys a store expects a prefix to hold when it lists it (ObjectStore.list's `likely`, else what this store last
 * listed there), in the services' listing order: where the S3 and GCS stores start the ranges they list at once.
 */
export class ExpectedKeys {
    private readonly listed = new Map<string, string[]>();

    /** Under `prefix`, each once, in listing order; none when `likely` is a tree that could not be read. */
    async of(prefix: string, likely?: string[] | Promise<string[]>): Promise<string[]> {
        const expected = await Promise.resolve(likely ?? this.listed.get(prefix) ?? []).catch(() => []);
        return [...new Set(expected.filter((key) => key.startsWith(prefix)))].sort(compareKeys);
    }

    /** What a listing of `prefix` found: the next listing of it expects that. */
    remember(prefix: string, keys: string[]): void {
        this.listed.set(prefix, keys);
    }
}
