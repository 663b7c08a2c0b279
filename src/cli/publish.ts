import os from "node:os";
import { normalizePrefix } from "../bucket/keys.ts";
import { ConflictError, RECONCILE_ANNOTATION, type FluxCluster, type FluxObject } from "./cluster.ts";
import { CliError, ConcurrentChangeError } from "./errors.ts";

/** Set on a Bucket that bucketops suspended, to who suspended it and when: only such a Bucket is bucketops' to resume. */
export const SUSPENDED_ANNOTATION = "bucketops.flux-bucket.io/suspended";

/**
 * The commit the bucket now holds, on the Bucket: Flux's event recorder adds every `event.toolkit.fluxcd.io/` annotation
 * of the object to its events' metadata, so notification-controller's alerts and commit statuses can name it.
 */
export const COMMIT_ANNOTATION = "event.toolkit.fluxcd.io/commit";

/** Conflicts (the Bucket changed between our read and our patch, e.g. source-controller's status update) retried in a row. */
const MAX_CONFLICTS = 5;

/**
 * An atomic publish: the Flux Bucket that reads the prefix is suspended (`spec.suspend: true`, a merge patch by
 * bucketops' field manager, conditional on the resourceVersion read, with SUSPENDED_ANNOTATION) before the first
 * write, so source-controller fetches nothing half-written, and resumed with a reconcile request
 * (`reconcile.fluxcd.io/requestedAt`, as `flux reconcile source bucket` sets it) once every write and delete
 * succeeded. A Bucket someone else suspended is left alone. After a failure it stays suspended: see `repair`.
 */
export class AtomicPublish {
    readonly cluster: FluxCluster;
    private readonly command: string;
    private readonly log: (line: string) => void;
    private foreign = false;
    /** The Bucket was already suspended by bucketops (a run that stopped before resuming it): this one must resume it. */
    readonly leftSuspended: boolean;
    /** The reconcile requested on resume (what the wait compares `status.lastHandledReconcileAt` with). */
    requestedAt?: string;

    constructor(cluster: FluxCluster, command: string, log: (line: string) => void, leftSuspended = false) {
        this.cluster = cluster;
        this.command = command;
        this.log = log;
        this.leftSuspended = leftSuspended;
    }

    /**
     * The publish for a write to `bucket`/`prefix` when the cluster's Bucket reads it (the same bucket and overlapping
     * prefixes); undefined, with a note, when it reads something else, as suspending it would protect nothing.
     */
    static async forTarget(cluster: FluxCluster, bucket: string, prefix: string, command: string, log: (line: string) => void): Promise<AtomicPublish | undefined> {
        const object = await cluster.bucket();
        const { spec } = object;
        const reads = normalizePrefix(String(spec.prefix ?? ""));
        const ours = normalizePrefix(prefix);
        if (spec.bucketName !== bucket || !(ours.startsWith(reads) || reads.startsWith(ours))) {
            log(`note: ${cluster.label} reads ${spec.bucketName}/${reads}, not this prefix: the publish is not atomic and bucketops does not wait for it`);
            return undefined;
        }
        const left = suspendedByBucketops(object);
        if (left) log(`note: ${cluster.label} was left suspended by bucketops (${left}): this ${command} resumes it once the prefix is whole`);
        return new AtomicPublish(cluster, command, log, left !== undefined);
    }

    /** Suspends the Bucket before the first write (or leaves it, suspended by someone else). */
    async suspend(): Promise<void> {
        const suspended = await this.patch((bucket) => {
            if (bucket.spec.suspend === true && bucket.metadata.annotations?.[SUSPENDED_ANNOTATION] === undefined) return undefined;
            const by = `${os.userInfo().username}@${os.hostname()} (pid ${process.pid}, ${this.command}) at ${new Date().toISOString()}`;
            return { spec: { suspend: true }, metadata: { annotations: { [SUSPENDED_ANNOTATION]: by } } };
        });
        if (!suspended) {
            this.foreign = true;
            this.log(
                `note: ${this.cluster.label} is suspended, not by bucketops: left alone, and not waited for (Flux fetches ` +
                    `nothing until whoever suspended it resumes it)`,
            );
            return;
        }
        this.log(`suspended ${this.cluster.label}: Flux fetches nothing until every write is done`);
    }

    /**
     * After every write and delete succeeded: resumes the Bucket, requests a reconcile and sets COMMIT_ANNOTATION to
     * `commit` (removed when the content has no known commit). False when it was not ours to resume.
     */
    async resume(commit?: string): Promise<boolean> {
        if (this.foreign) return false;
        const requestedAt = new Date().toISOString();
        const annotations = { [SUSPENDED_ANNOTATION]: null, [RECONCILE_ANNOTATION]: requestedAt, [COMMIT_ANNOTATION]: commit ?? null };
        await this.patch(() => ({ spec: { suspend: false }, metadata: { annotations } }));
        this.requestedAt = requestedAt;
        this.log(`resumed ${this.cluster.label} and requested a reconcile (${RECONCILE_ANNOTATION}=${requestedAt})`);
        return true;
    }

    /** Applies `change(bucket)` as a patch conditional on the Bucket's resourceVersion, reading it again after a conflict. */
    private async patch(change: (bucket: FluxObject) => Record<string, unknown> | undefined): Promise<boolean> {
        for (let conflicts = 0; ; conflicts++) {
            const bucket = await this.cluster.bucket();
            const body = change(bucket);
            if (!body) return false;
            try {
                await this.cluster.patchBucket(body, bucket.metadata.resourceVersion);
                return true;
            } catch (error) {
                if (!(error instanceof ConflictError) || conflicts + 1 >= MAX_CONFLICTS) {
                    throw error instanceof ConflictError
                        ? new ConcurrentChangeError(`${this.cluster.label} changed under each of ${MAX_CONFLICTS} patches; re-run`)
                        : error;
                }
            }
        }
    }
}

/** Whether bucketops suspended this Bucket (and has not resumed it yet). */
export function suspendedByBucketops(bucket: FluxObject): string | undefined {
    return bucket.spec.suspend === true ? bucket.metadata.annotations?.[SUSPENDED_ANNOTATION] : undefined;
}

/** Suspends the Bucket before the first write, or says that the publish is not atomic. */
export async function beginPublish(options: { publication?: AtomicPublish; log: (line: string) => void }): Promise<void> {
    if (options.publication) return options.publication.suspend();
    options.log(
        "note: the publish is not atomic (no cluster access: --kubeconfig, KUBECONFIG or the stack outputs' kubeconfig): " +
            "Flux may fetch while it runs; files go before the kustomization.yaml that lists them, deeper folders first, deletes last",
    );
}

/** The writes of a publish: when they fail after the Bucket was suspended, it stays so, and the message says why and what next. */
export async function publishing<T>(publication: AtomicPublish | undefined, writes: () => Promise<T>): Promise<T> {
    try {
        return await writes();
    } catch (error) {
        if (!publication || !(error instanceof CliError)) throw error;
        throw new CliError(
            `${error.message}\n${publication.cluster.label} stays suspended, so Flux applies nothing half-written: re-run to ` +
                `finish (which resumes it), roll back, or 'bucketops resume' to let Flux fetch the prefix as it is`,
            error.exitCode,
        );
    }
}
