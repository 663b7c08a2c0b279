import { isBucketopsKey, normalizePrefix, SOURCEIGNORE } from "../bucket/keys.ts";
import { mapBounded } from "../fs/bounded.ts";
import { CliError, UsageError } from "./errors.ts";
import { requireVersioning } from "./history.ts";
import { Lease, type LeaseOptions } from "./lease.ts";
import { recordRelease } from "./provenance.ts";
import { fluxRevision, ignorePatterns } from "./revision.ts";
import type { ObjectStore, ObjectVersion } from "./store/types.ts";

export interface PurgeOptions {
    /** Confirmed beforehand (--yes): no question asked. */
    yes: boolean;
    /** Asks the user a question and returns the answer; undefined when there is no terminal to ask on. */
    ask?: (question: string) => Promise<string>;
    lease: Pick<LeaseOptions, "waitMs" | "breakStale" | "conditional">;
    /** Flux's spec.ignore, for the revision the record and the output give. */
    specIgnore?: string;
    /** Why, for the record (-m). */
    message?: string;
    log: (line: string) => void;
}

/** Keys purged at once. */
const PARALLEL_KEYS = 8;

/**
 * `bucketops purge <url> <key>…`: deletes every version and delete marker of the keys for good, which no other
 * command does (a push or rollback only adds versions, so history can undo them): the way to take back a secret that
 * was pushed, whose old versions a plain delete keeps readable. Keys are relative to the URL's prefix (as the tree's
 * paths are) or, when they start with it, whole. Under the prefix's lease, after a confirmation; a release record
 * names the keys (never their content), so `history` shows the purge. Returns the purged keys.
 */
export async function purge(store: ObjectStore, names: string[], options: PurgeOptions): Promise<string[]> {
    const prefix = normalizePrefix(store.url.prefix);
    await requireVersioning(store, "purge");
    const found = await mapBounded(names, (name) => findVersions(store, prefix, name), PARALLEL_KEYS);
    const targets = [...new Map(found.map((target) => [target.key, target])).values()];
    const missing = targets.filter((target) => target.versions.length === 0);
    if (missing.length > 0) {
        throw new UsageError(`no version of ${missing.map((target) => target.key).join(", ")} in ${store.description}: nothing was deleted (keys are relative to the URL's prefix '${prefix}')`);
    }
    const current = targets.filter((target) => target.versions.some((v) => v.latest && !v.deleteMarker));
    const count = targets.reduce((sum, target) => sum + target.versions.length, 0);
    options.log(`purge: deletes for good every version of ${targets.length} key(s) in ${store.description}, ${count} version(s) and delete marker(s) in all:`);
    for (const { key, versions } of targets) {
        const markers = versions.filter((v) => v.deleteMarker).length; // on GCS: the ends of generations, which go with them
        options.log(`  ${key}: ${versions.length - markers} version(s), ${markers} delete marker(s)${current.some((t) => t.key === key) ? ", current: Flux's next fetch will not find it" : ""}`);
    }
    await confirm(options, count);

    const lease = await Lease.take(store, prefix, { ...options.lease, command: "purge", log: options.log });
    try {
        // Under the lease, listed again: a push may have written a version since.
        const before = (await store.list(prefix)).filter((entry) => !isBucketopsKey(entry.key));
        const locked = await mapBounded(targets, (target) => findVersions(store, prefix, target.key, true), PARALLEL_KEYS);
        lease.writing();
        await mapBounded(
            locked,
            async ({ versions }) => {
                // Oldest first: deleting a key's current version while older ones remain would make the one before it
                // current (S3), so Flux could fetch an older copy of what is being purged.
                for (const version of [...versions].reverse()) {
                    lease.check();
                    await store.deleteVersion(version);
                }
            },
            PARALLEL_KEYS,
        );
        const left = (await mapBounded(locked, (target) => findVersions(store, prefix, target.key, true), PARALLEL_KEYS)).filter((t) => t.versions.length > 0);
        if (left.length > 0) {
            throw new CliError(`versions of ${left.map((t) => t.key).join(", ")} are still there after the purge (written meanwhile?): run purge again`);
        }
        lease.settled();
        const keys = locked.map((target) => target.key);
        // A release of its own: the state the purge left (its manifest), numbered after the one it replaced.
        const patterns = ignorePatterns(await store.get(SOURCEIGNORE), options.specIgnore);
        const objects = (await store.list(prefix)).filter((entry) => !isBucketopsKey(entry.key));
        const revision = fluxRevision(objects, patterns);
        await recordRelease(
            store,
            prefix,
            {
                command: "purge",
                revision,
                message: options.message ?? `purged every version of ${keys.join(", ")}`,
                added: [],
                modified: [],
                removed: keys,
                objects,
                before: { objects: before, revision: fluxRevision(before, patterns) },
            },
            options.log,
        );
        options.log(`purged ${count} version(s) of ${keys.length} key(s); Flux revision (Bucket spec.prefix '${prefix}'): ${revision}`);
        options.log(
            "rotate the credential now: whoever could read the prefix (Flux's identity, CI readers, caches, copies of the " +
                "bucket) may have read it while it was there. Then make sure the tree no longer ships it (.gitignore, SOPS), and " +
                "check 'bucketops history' for the purge",
        );
        return keys;
    } finally {
        await lease.release();
    }
}

/** The versions of one key, newest first; a key is relative to the prefix unless it names one under it whole. */
async function findVersions(store: ObjectStore, prefix: string, name: string, whole = false): Promise<{ key: string; versions: ObjectVersion[] }> {
    const candidates = whole ? [name] : [...new Set([`${prefix}${name.replace(/^\/+/, "")}`, ...(name.startsWith(prefix) && prefix !== "" ? [name] : [])])];
    for (const key of candidates) {
        if (key === prefix || key.endsWith("/")) throw new UsageError(`'${name}' is not a key: purge takes the keys of objects, not a folder`);
        if (isBucketopsKey(key)) throw new UsageError(`'${name}' is bucketops' lease or release record: purge takes the keys of the tree's objects`);
        if (!key.startsWith(prefix)) throw new UsageError(`'${key}' is not under the URL's prefix '${prefix}'`);
        const versions = (await store.listVersions(key)).filter((v) => v.key === key).sort(newestFirst);
        if (versions.length > 0 || key === candidates.at(-1)) return { key, versions };
    }
    throw new Error("unreachable");
}

function newestFirst(a: ObjectVersion, b: ObjectVersion): number {
    return (
        b.lastModified.getTime() - a.lastModified.getTime() ||
        (a.sequence !== undefined && b.sequence !== undefined ? b.sequence - a.sequence : 0) ||
        Number(b.latest) - Number(a.latest)
    );
}

async function confirm(options: PurgeOptions, count: number): Promise<void> {
    if (options.yes) return;
    if (!options.ask) {
        throw new UsageError("purge deletes history for good and asks first: no terminal to ask on, so nothing was deleted. Pass --yes in a script");
    }
    const answer = await options.ask(`Delete these ${count} version(s) for good? This cannot be undone. Type 'purge' to confirm: `);
    if (answer.trim() !== "purge") throw new UsageError("not confirmed: nothing was deleted");
}
