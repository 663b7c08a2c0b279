import { isBucketopsKey, releaseKey } from "../bucket/keys.ts";
import { applyChanges, type ChangeSet } from "./apply.ts";
import { CliError, InterruptedError } from "./errors.ts";
import { Interrupts } from "./interrupts.ts";
import { Lease, type LeaseOptions } from "./lease.ts";
import { recordRelease, type ReleaseFacts, type ReleaseRecord } from "./provenance.ts";
import { beginPublish, publishing, type AtomicPublish } from "./publish.ts";
import type { FluxRevisions } from "./revision.ts";
import type { ObjectEntry, ObjectStore } from "./store/types.ts";

/** How a writer waits for, and breaks, another writer's lease (the --wait-lock, --break-lock and conditional-write flags). */
export type LeaseSettings = Pick<LeaseOptions, "waitMs" | "breakStale" | "conditional" | "rerun" | "warn" | "listedAbsent">;

/** What a write changes: the writes, the objects it keeps and the ones it deletes (see applyChanges). */
export type Changes = Omit<ChangeSet, "prefix">;

/**
 * One writer of a prefix (push, rollback, and any later one): what it plans and records. The plan is a pure function
 * of a listing, so it is unit-testable with a fake ObjectStore and is computed again under the lease.
 */
export interface Writer<P> {
    /** push, rollback…: the lease record, the progress bar and the messages name it. */
    command: string;
    /** Pure: the plan for a listing of the prefix taken under the lease (bucketops' own keys left out). */
    plan(listing: ObjectEntry[]): P;
    /** The changes of a plan; undefined when it changes nothing. */
    changes(plan: P): Changes | undefined;
    /** Prints the plan (before anything is written). */
    describe(plan: P): void;
    /**
     * After every write and delete: the release record of `objects` (the prefix as written, its manifest) replacing
     * `listing` (the prefix as planned from), and the commit they come from.
     */
    release(plan: P, objects: ObjectEntry[], listing: ObjectEntry[]): Promise<{ facts: ReleaseFacts; commit?: string }>;
}

export interface GuardedWriteOptions<P> {
    store: ObjectStore;
    /** The folder prefix written. */
    prefix: string;
    /** Take the prefix's lease with these settings, or write under one the caller holds (a rollback after a failed push). */
    lease: LeaseSettings | Lease;
    /** With a held lease: the caller's listing of the prefix taken under it (bucketops' keys included), planned from instead of listing again. */
    listed?: ObjectEntry[];
    /** Suspends the cluster's Bucket around the writes; unset: the publish is not atomic, and the write says so. */
    publication?: AtomicPublish;
    concurrency: number;
    /** After the resume, still under the lease: the wait for the apply (and what follows a failure). */
    afterResume?: (lease: Lease, written: GuardedWriteResult<P>) => Promise<void>;
    log: (line: string) => void;
}

export interface GuardedWriteResult<P> {
    plan: P;
    /** The listing the plan was made from (under the lease), bucketops' own keys left out. */
    listing: ObjectEntry[];
    /** The prefix's objects after the write; undefined when the plan changed nothing. */
    objects?: ObjectEntry[];
    /** The release written (undefined where nothing was written, or the record could not be: a warning then). */
    record?: ReleaseRecord;
}

/**
 * The one order every writer follows: take the lease → list and plan again under it → suspend the Bucket (and wait
 * until source-controller has seen the suspension) → write, then delete → check the lease is still ours → write the
 * release record → resume the Bucket with a reconcile request → `afterResume` (the wait) → let go of the lease.
 * A plan that changes nothing writes nothing; a Bucket that a stopped writer left suspended is still resumed then.
 */
export async function guardedWrite<P>(writer: Writer<P>, options: GuardedWriteOptions<P>): Promise<GuardedWriteResult<P>> {
    const { store, prefix, log } = options;
    const held = options.lease instanceof Lease ? options.lease : undefined;
    const lease = held ?? (await Lease.take(store, prefix, { ...(options.lease as LeaseSettings), command: writer.command, log }));
    try {
        return await Interrupts.whileWriting(() => write(writer, options, lease));
    } finally {
        if (!held) await lease.release();
    }
}

/** The steps under the lease, with Ctrl-C and SIGTERM handled (Interrupts). */
async function write<P>(writer: Writer<P>, options: GuardedWriteOptions<P>, lease: Lease): Promise<GuardedWriteResult<P>> {
    const { store, prefix, publication, log } = options;
    const listed = options.listed ?? (await store.list(prefix));
    const listing = listed.filter((entry) => !isBucketopsKey(entry.key));
    const plan = writer.plan(listing);
    writer.describe(plan);
    const changes = writer.changes(plan);
    if (!changes) {
        // A Bucket that a stopped push or rollback left suspended is resumed: the prefix is whole.
        if (publication?.leftSuspended) {
            await publication.resume();
            await afterResume(options, lease, { plan, listing });
        }
        return { plan, listing };
    }
    // The record this release follows is read while the objects are written: under the lease no one else writes it.
    const previousRecord = listed.some((entry) => entry.key === releaseKey(prefix)) ? store.get(releaseKey(prefix)) : Promise.resolve(undefined);
    previousRecord.catch(() => undefined);
    await beginPublish({ publication, log });
    const objects = await publishing(publication, () =>
        applyChanges(store, { prefix, ...changes }, { concurrency: options.concurrency, verb: writer.command, lease }),
    );
    lease.check();
    const { facts, commit } = await writer.release(plan, objects, listing);
    const record = await recordRelease(store, prefix, facts, log, previousRecord);
    await publication?.resume(commit);
    await afterResume(options, lease, { plan, listing, objects, record });
    return { plan, listing, objects, record };
}

/** The wait after the resume; a signal there ends it, the write itself being complete. */
async function afterResume<P>(options: GuardedWriteOptions<P>, lease: Lease, written: GuardedWriteResult<P>): Promise<void> {
    try {
        await options.afterResume?.(lease, written);
    } catch (error) {
        if (!(error instanceof InterruptedError) || !written.objects) throw error;
        throw new CliError(`${error.message} while waiting for the cluster: every write is done and the Bucket resumed; 'bucketops status' shows what the cluster applies`, error.exitCode);
    }
}

/**
 * What --rollback-on-failure restores after a write: nothing where Flux saw nothing before (a root .sourceignore or
 * ignored files are no state); else the release the write replaced, by number where it was one, so the rollback is exact.
 */
export function releaseBefore<P>(written: GuardedWriteResult<P>, revisions: FluxRevisions): string | undefined {
    if (revisions.index(written.listing).size === 0) return undefined;
    return String(written.record?.replaced?.number ?? revisions.revision(written.listing));
}
