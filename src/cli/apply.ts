import pLimit from "p-limit";
import { isBucketopsKey } from "../bucket/keys.ts";
import { CliError, ConcurrentChangeError, InterruptedError, tooManyOpenFiles } from "./errors.ts";
import { Interrupts } from "./interrupts.ts";
import type { Lease } from "./lease.ts";
import { progressBar } from "./progress.ts";
import type { ObjectEntry, ObjectStore } from "./store/types.ts";
import { isKustomizationFile } from "../validate/kustomizationFile.ts";

export interface Write {
    key: string;
    run(): Promise<ObjectEntry>;
}

export interface ApplyOptions {
    concurrency: number;
    /** For messages and the progress bar: push, rollback. */
    verb: string;
    /** The prefix's lease, held by the caller; checked before each write and before deleting. */
    lease: Lease;
}

export interface ChangeSet {
    /** The prefix the writes and deletes stay within (listed again before deleting). */
    prefix: string;
    writes: Write[];
    /** Objects left as they are. */
    keep: ObjectEntry[];
    deletes: ObjectEntry[];
}

/**
 * Applies writes with bounded parallelism, then, when it deletes, re-lists the prefix and deletes only if it shows
 * exactly the expected objects: every key therefore ends in its old or its new state, and no key is
 * deleted before every write succeeded or while another writer is changing the prefix.
 * Returns the resulting objects of the prefix, with the version id of each written one.
 */
export async function applyChanges(store: ObjectStore, changes: ChangeSet, options: ApplyOptions): Promise<ObjectEntry[]> {
    options.lease.writing();
    const written = await runWrites(changes.writes, options);
    if (changes.deletes.length === 0) {
        // Nothing to delete, so no listing: each write was conditional on the object listed under the lease, and the
        // kept objects are that listing's. The prefix is what was listed, with each write's answer.
        options.lease.check();
        options.lease.settled();
        return inListingOrder([...changes.keep, ...written]);
    }

    const expected = new Map<string, string>();
    for (const entry of [...changes.keep, ...changes.deletes, ...written]) expected.set(entry.key, entry.etag);
    const listing = (await store.list(changes.prefix)).filter((entry) => !isBucketopsKey(entry.key));
    const drift = differences(expected, listing);
    if (drift.length > 0) {
        throw new ConcurrentChangeError(
            `concurrent change detected in ${store.description} under '${changes.prefix}': ` +
                `${drift.slice(0, 5).join(", ")}${drift.length > 5 ? ` and ${drift.length - 5} more` : ""}. ` +
                `Another push or rollback is probably running. ${written.length} object(s) were written, ` +
                `nothing was deleted; re-run when the other writer is done.`,
        );
    }

    const deleted = new Set(changes.deletes.map((entry) => entry.key));
    options.lease.check();
    if (deleted.size > 0) await store.delete([...deleted]);
    options.lease.settled();
    // The listing does not tell S3 version ids: each written entry brings its own (for the release manifest).
    const writes = new Map(written.map((entry) => [entry.key, entry]));
    return listing.filter((entry) => !deleted.has(entry.key)).map((entry) => ({ ...entry, versionId: entry.versionId ?? writes.get(entry.key)?.versionId }));
}

/**
 * The writes in the order that keeps each intermediate state as whole as a write that Flux may fetch half-way can
 * be (its Bucket is suspended meanwhile only with cluster access): every other file first, then the kustomization
 * files, deepest folder first, so that a kustomization.yaml lands after what it lists and a parent after its children.
 * Each group starts when the one before it is done.
 */
export function writeGroups<T extends { key: string }>(writes: T[]): T[][] {
    const depth = (key: string) => key.split("/").length;
    const groups = new Map<number, T[]>();
    for (const write of writes) {
        const rank = isKustomizationFile(write.key) ? 1_000_000 - depth(write.key) : 0;
        const group = groups.get(rank);
        if (group) group.push(write);
        else groups.set(rank, [write]);
    }
    return [...groups].sort(([a], [b]) => a - b).map(([, group]) => group);
}

async function runWrites(writes: Write[], options: ApplyOptions): Promise<ObjectEntry[]> {
    const limit = pLimit(options.concurrency);
    const bar = progressBar(options.verb, writes.length);
    let failure: unknown;
    // Ctrl-C or SIGTERM (Interrupts): no new write starts, the ones under way finish, the run ends with what was written.
    const interrupted = () => {
        const signal = Interrupts.received;
        if (signal) failure ??= new InterruptedError(signal);
        return failure !== undefined;
    };
    const results: (ObjectEntry | undefined)[] = [];
    for (const group of writeGroups(writes)) {
        results.push(
            ...(await Promise.all(
                group.map((write) =>
                    limit(async () => {
                        if (interrupted()) return undefined; // stop starting new writes after the first failure or a signal
                        try {
                            options.lease.check();
                            const entry = await write.run();
                            bar.tick();
                            return entry;
                        } catch (error) {
                            failure ??= error;
                            return undefined;
                        }
                    }),
                ),
            )),
        );
    }
    interrupted();
    bar.stop();
    const done = results.filter((entry): entry is ObjectEntry => entry !== undefined);
    if (failure) {
        const reason = failure instanceof CliError ? failure : (tooManyOpenFiles(failure) ?? failure);
        const message = reason instanceof Error ? reason.message : String(reason);
        throw new CliError(
            `${message}\n${options.verb} stopped: ${done.length} of ${writes.length} object(s) written, ` +
                `nothing deleted; every key holds either its old or its new content. Re-run to finish.`,
            reason instanceof CliError ? reason.exitCode : 1,
        );
    }
    return done;
}

/** Entries in the order a listing returns them: S3 and GCS list keys in the byte order of their UTF-8. */
function inListingOrder(entries: ObjectEntry[]): ObjectEntry[] {
    return entries
        .map((entry) => [Buffer.from(entry.key), entry] as const)
        .sort(([a], [b]) => Buffer.compare(a, b))
        .map(([, entry]) => entry);
}

function differences(expected: Map<string, string>, listing: ObjectEntry[]): string[] {
    const seen = new Set<string>();
    const drift: string[] = [];
    for (const entry of listing) {
        seen.add(entry.key);
        const etag = expected.get(entry.key);
        if (etag === undefined) drift.push(`${entry.key} appeared`);
        else if (etag !== entry.etag) drift.push(`${entry.key} changed`);
    }
    for (const key of expected.keys()) if (!seen.has(key)) drift.push(`${key} disappeared`);
    return drift;
}
