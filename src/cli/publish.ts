import os from "node:os";
import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import { isLeaseKey, normalizePrefix } from "../bucket/keys.ts";
import { UserError } from "../errors.ts";
import { FluxCluster, RECONCILE_ANNOTATION, type FluxObject } from "./cluster.ts";
import { bucketStore, stackOutputsOf, timeoutsOf, type ConnectionFlags, type OpenStore } from "./connection.ts";
import { CliError } from "./errors.ts";
import type { ClusterFlags, WaitFlags } from "./flags.ts";
import { requestTime, waitForApply, type ReconcileRequest } from "./readiness.ts";
import { currentRevision } from "./revision.ts";
import type { ObjectStore } from "./store/types.ts";

/** Set on a Bucket that bucketops suspended, to who suspended it and when: only such a Bucket is bucketops' to resume. */
export const SUSPENDED_ANNOTATION = "bucketops.flux-bucket.io/suspended";

/**
 * The commit the bucket now holds, on the Bucket: Flux's event recorder adds every `event.toolkit.fluxcd.io/` annotation
 * of the object to its events' metadata, so notification-controller's alerts and commit statuses can name it.
 */
export const COMMIT_ANNOTATION = "event.toolkit.fluxcd.io/commit";

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
    request?: ReconcileRequest;

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
        const requestedAt = requestTime();
        const annotations = { [SUSPENDED_ANNOTATION]: null, [RECONCILE_ANNOTATION]: requestedAt, [COMMIT_ANNOTATION]: commit ?? null };
        const resumed = await this.patch(() => ({ spec: { suspend: false }, metadata: { annotations } }));
        // As flux2 cmd/flux/reconcile.go:121 does, the value before the request, read before the (conditional) patch.
        this.request = { requestedAt, before: resumed?.before.status?.lastHandledReconcileAt };
        this.log(`resumed ${this.cluster.label} and requested a reconcile (${RECONCILE_ANNOTATION}=${requestedAt})`);
        return true;
    }

    /** Applies `change(bucket)` (see FluxCluster.update); the Bucket as read before and as patched, undefined when `change` declined. */
    private async patch(change: (bucket: FluxObject) => Record<string, unknown> | undefined) {
        return this.cluster.update(change);
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

/**
 * The atomic publish of a write to `store`'s prefix, unless --no-cluster: with a kubeconfig given (--kubeconfig, the
 * stack outputs'), or KUBECONFIG set, and a Bucket there that reads the prefix. A given kubeconfig whose cluster or
 * Bucket cannot be reached is an error (nothing is written); KUBECONFIG's, which may be any cluster, is a note, and
 * the publish is then not atomic. (~/.kube/config alone is not used: it is too often another cluster.)
 */
export async function openPublication(flags: ClusterFlags, store: ObjectStore, command: string, log: (line: string) => void): Promise<AtomicPublish | undefined> {
    const outputs = stackOutputsOf(flags);
    const given = Boolean(flags.kubeconfig || outputs.kubeconfig);
    if (flags.cluster === false || (!given && !process.env.KUBECONFIG)) return undefined;
    try {
        const cluster = await FluxCluster.open({ ...flags, timeoutMs: timeoutsOf(flags).requestMs }, outputs);
        return await AtomicPublish.forTarget(cluster, store.url.bucket, store.url.prefix, command, log);
    } catch (error) {
        if (given && error instanceof UserError) {
            throw new CliError(
                `${error.message}\nNothing was changed: with a kubeconfig the ${command} publishes atomically through the cluster's Flux Bucket. ` +
                    `Pass --no-cluster to ${command} without it (Flux may then fetch while it writes)`,
            );
        }
        if (given || !(error instanceof UserError)) throw error;
        log(`note: KUBECONFIG's cluster has no Bucket for this push (${error.message}): the publish is not atomic`);
        return undefined;
    }
}

/**
 * After a publish that resumed the Bucket: waits until the cluster applied what the bucket now holds, as the Bucket
 * reads it (its prefix and spec.ignore). Returns the revision applied; throws ApplyFailedError or ApplyTimeoutError.
 */
export async function awaitApply(publication: AtomicPublish, store: ObjectStore, flags: WaitFlags, log: (line: string) => void): Promise<string | undefined> {
    if (!publication.request || !flags.wait) return undefined;
    const { spec } = await publication.cluster.bucket();
    const { revision } = await currentRevision(store, String(spec.prefix ?? ""), spec.ignore as string | undefined);
    log(`waiting up to ${flags.waitTimeout} s for the cluster to apply ${revision} (--no-wait skips this)`);
    await waitForApply(publication.cluster, revision, publication.request, { deadline: Date.now() + flags.waitTimeout * 1000, intervalMs: 1000, log });
    log(`applied: the cluster runs ${revision}`);
    return revision;
}

/**
 * Resumes a Bucket that bucketops suspended and a run that died left so, once the prefix is whole: no lease under the
 * Bucket's prefix (a lease left there means a push or rollback is under way, or stopped half-way). `force` resumes
 * anyway. Returns what it did, for the caller to print.
 */
export async function repairSuspension(cluster: FluxCluster, flags: ConnectionFlags, open: OpenStore, force: boolean): Promise<string> {
    const bucket = await cluster.bucket();
    const by = suspendedByBucketops(bucket);
    if (by === undefined) {
        return bucket.spec.suspend === true ? `${cluster.label} is suspended, not by bucketops: left alone` : `${cluster.label} is not suspended`;
    }
    const prefix = normalizePrefix(String(bucket.spec.prefix ?? ""));
    const { store } = await bucketStore(bucket.spec as unknown as IBucketSpec, cluster.label, flags, open);
    const leases = (await store.list(prefix)).filter((entry) => isLeaseKey(entry.key));
    if (leases.length > 0 && !force) {
        throw new CliError(
            `${cluster.label} was suspended by bucketops (${by}) and stays so: ${leases.map((l) => l.key).join(", ")} says a push or rollback ` +
                `is writing the prefix or stopped half-way. Let it finish, re-run it, or roll back; --force resumes it as it is`,
        );
    }
    const publication = new AtomicPublish(cluster, "resume", () => undefined);
    await publication.resume();
    return `resumed ${cluster.label}, which bucketops suspended (${by}) and did not resume, and requested a reconcile`;
}
