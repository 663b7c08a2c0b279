import os from "node:os";
import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import { isLeaseKey, normalizePrefix } from "../bucket/keys.ts";
import { UserError } from "../errors.ts";
import { FluxCluster, RECONCILE_ANNOTATION, type FluxObject } from "./cluster.ts";
import { bucketStore, clusterAccessOf, stackOutputsOf, timeoutsOf, type ConnectionFlags, type OpenStore } from "./connection.ts";
import { CliError, InterruptedError } from "./errors.ts";
import type { ClusterFlags, WaitFlags } from "./flags.ts";
import { poll, requestTime, waitForApply, type ReconcileRequest } from "./readiness.ts";
import { currentRevision } from "./revision.ts";
import type { ObjectStore } from "./store/types.ts";

/** Set on a Bucket that bucketops suspended, to who suspended it and when: only such a Bucket is bucketops' to resume. */
export const SUSPENDED_ANNOTATION = "bucketops.flux-bucket.io/suspended";

/** What Flux Operator's UI and CLI set, to who suspended an object (cleared on resume). */
export const SUSPENDED_BY_ANNOTATION = "fluxcd.controlplane.io/suspendedBy";

/** Added to twice the Bucket's spec.timeout for the suspend barrier: archiving the artifact, status updates, the requeue. */
const BARRIER_MARGIN_MS = 10_000;
/** How often the barrier reads the Bucket. */
const BARRIER_POLL_MS = 250;

/** A Go duration as Flux's CRDs take it (spec.timeout: `^([0-9]+(\.[0-9]+)?(ms|s|m))+$`), in ms. */
export function goDurationMs(text: string): number {
    let ms = 0;
    for (const [, n, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms"];
    return ms;
}

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
 * succeeded. A Bucket someone else suspended is left alone. After a failure it stays suspended: see repairSuspension.
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
    /** This run's SUSPENDED_ANNOTATION value, once it suspended the Bucket. */
    private mark?: string;
    /** The generation of this run's suspend patch, and the artifact source-controller had once it saw it. */
    private suspendedGeneration?: number;
    private artifactAtSuspend?: string;

    /** Where the warning that the publish was not atomic goes (stderr); default: log. */
    private readonly warn: (line: string) => void;

    constructor(cluster: FluxCluster, command: string, log: (line: string) => void, leftSuspended = false, warn: (line: string) => void = log) {
        this.cluster = cluster;
        this.command = command;
        this.log = log;
        this.leftSuspended = leftSuspended;
        this.warn = warn;
    }

    /**
     * The publish for a write to `bucket`/`prefix` when the cluster's Bucket reads it (the same bucket and overlapping
     * prefixes); undefined, with a note, when it reads something else, as suspending it would protect nothing.
     */
    static async forTarget(
        cluster: FluxCluster,
        bucket: string,
        prefix: string,
        command: string,
        log: (line: string) => void,
        warn: (line: string) => void = log,
    ): Promise<AtomicPublish | undefined> {
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
        return new AtomicPublish(cluster, command, log, left !== undefined, warn);
    }

    /**
     * Suspends the Bucket before the first write (or leaves it, suspended by someone else), then waits until
     * source-controller has seen the suspension (see `barrier`). Nothing is written before this returns.
     */
    async suspend(): Promise<void> {
        // With a reconcile request, so that the reconcile which finds the Bucket suspended says so (see barrier).
        const requestedAt = requestTime();
        const suspended = await this.patch((bucket) => {
            if (bucket.spec.suspend === true && bucket.metadata.annotations?.[SUSPENDED_ANNOTATION] === undefined) return undefined;
            this.mark = `${os.userInfo().username}@${os.hostname()} (pid ${process.pid}, ${this.command}) at ${new Date().toISOString()}`;
            return { spec: { suspend: true }, metadata: { annotations: { [SUSPENDED_ANNOTATION]: this.mark, [RECONCILE_ANNOTATION]: requestedAt } } };
        });
        if (!suspended) {
            this.foreign = true;
            const bucket = await this.cluster.bucket();
            const by = bucket.metadata.annotations?.[SUSPENDED_BY_ANNOTATION];
            this.log(
                `note: ${this.cluster.label} is suspended, not by bucketops${by ? ` (by ${by}, ${SUSPENDED_BY_ANNOTATION})` : ""}: left alone, and not ` +
                    `waited for (Flux fetches nothing until whoever suspended it resumes it)`,
            );
            return;
        }
        await this.barrier(suspended.after, requestedAt);
        this.log(`suspended ${this.cluster.label}: Flux fetches nothing until every write is done`);
    }

    /**
     * source-controller checks spec.suspend once, at the start of a reconcile (source-controller v1.8.5
     * internal/controller/bucket_controller.go:248-252); a reconcile already past that check lists the bucket and then
     * GETs each key by name (:682-780), so it would fetch whatever bucketops writes meanwhile. The workqueue never runs
     * one object's reconciles at once (client-go util/workqueue, "Stingy"), and the suspend patch queues one more (:184:
     * its new generation, and its reconcile request). That reconcile reads the Bucket after the patch: it finds it
     * suspended (or only adds the finalizer, :241-245) and fetches nothing. So once it has run, no reconcile is
     * fetching. It shows in two ways: status.lastHandledReconcileAt becomes the patch's request, which every reconcile
     * records whatever its outcome (internal/reconcile/summarize/processor.go:42-46, run by the deferred summary,
     * :209-229), and status.observedGeneration reaches the patch's generation (internal/reconcile/reconcile.go:166-173,
     * but only for a Bucket that has conditions, :228-232: not one never reconciled). Each fetch step is bounded by
     * spec.timeout (:683, :737): the wait is bounded by twice that, plus BARRIER_MARGIN_MS.
     */
    private async barrier(suspended: FluxObject, requestedAt: string): Promise<void> {
        const generation = suspended.metadata.generation;
        this.suspendedGeneration = generation;
        this.artifactAtSuspend = suspended.status?.artifact?.revision;
        const seenBy = (bucket: FluxObject) =>
            bucket.status?.lastHandledReconcileAt === requestedAt || (generation !== undefined && (bucket.status?.observedGeneration ?? 0) >= generation);
        if (generation === undefined || seenBy(suspended)) return;
        const timeoutMs = 2 * goDurationMs(String(suspended.spec.timeout ?? "60s")) + BARRIER_MARGIN_MS;
        this.log(`waiting up to ${Math.round(timeoutMs / 1000)} s for source-controller to finish any fetch in flight and see the suspension (status.lastHandledReconcileAt ${requestedAt}, or status.observedGeneration ${generation})`);
        // Nothing is written before the barrier: given up or interrupted, the Bucket goes back to how it was.
        const undo = () => this.patch(() => ({ spec: { suspend: false }, metadata: { annotations: { [SUSPENDED_ANNOTATION]: null } } }));
        let seen: true | undefined;
        try {
            seen = await poll(
                async () => {
                    const bucket = await this.cluster.bucket();
                    this.artifactAtSuspend = bucket.status?.artifact?.revision;
                    return seenBy(bucket) ? true : undefined;
                },
                { deadline: Date.now() + timeoutMs, intervalMs: BARRIER_POLL_MS },
            );
        } catch (error) {
            if (!(error instanceof InterruptedError)) throw error;
            await undo();
            throw new CliError(`${error.message} before anything was written: ${this.cluster.label} was resumed as it was`, error.exitCode);
        }
        if (seen) return;
        const bucket = await this.cluster.bucket();
        await undo();
        throw new CliError(
            `source-controller did not see the suspension of ${this.cluster.label} within ${Math.round(timeoutMs / 1000)} s (2 × its spec.timeout ` +
                `${suspended.spec.timeout ?? "60s"}, plus ${BARRIER_MARGIN_MS / 1000} s): status.lastHandledReconcileAt is ` +
                `${bucket.status?.lastHandledReconcileAt ?? "unset"}, not the suspend's request ${requestedAt}, and status.observedGeneration ` +
                `${bucket.status?.observedGeneration ?? "unset"}, not generation ${generation}. It may not be running (kubectl -n flux-system get deploy source-controller), or be stuck in a fetch. ` +
                `Nothing was written, and the Bucket was resumed; re-run, or pass --no-cluster to write without the cluster (not atomic)`,
        );
    }

    /**
     * After every write and delete succeeded: resumes the Bucket, requests a reconcile and sets COMMIT_ANNOTATION to
     * `commit` (removed when the content has no known commit). False when it was not ours to resume. A Bucket someone
     * resumed while bucketops wrote (anyone: `flux resume`, kubectl, Flux Operator's UI, which marks
     * `fluxcd.controlplane.io/suspendedBy`) means the publish was not atomic: said, and the Bucket is still resumed with
     * a reconcile request, so Flux fetches the whole tree; one that someone suspended again is left so.
     */
    async resume(commit?: string): Promise<boolean> {
        if (this.foreign) return false;
        const requestedAt = requestTime();
        const annotations = { [SUSPENDED_ANNOTATION]: null, [RECONCILE_ANNOTATION]: requestedAt, [COMMIT_ANNOTATION]: commit ?? null };
        let resuspended: string | undefined;
        let warned = false;
        const resumed = await this.patch((bucket) => {
            const interference = warned ? undefined : this.interference(bucket);
            warned ||= interference !== undefined;
            if (interference) this.warn(`warning: the publish was not atomic: ${interference}; Flux may have fetched part of the old and part of the new tree`);
            const by = bucket.metadata.annotations?.[SUSPENDED_BY_ANNOTATION];
            const ours = bucket.metadata.annotations?.[SUSPENDED_ANNOTATION];
            if (bucket.spec.suspend === true && (by !== undefined || (this.mark !== undefined && ours !== this.mark))) {
                resuspended = by ?? "someone else";
                return undefined;
            }
            return { spec: { suspend: false }, metadata: { annotations } };
        });
        if (!resumed) {
            this.log(`note: ${this.cluster.label} was suspended again by ${resuspended} while bucketops wrote: left suspended, and not waited for`);
            return false;
        }
        // As flux2 cmd/flux/reconcile.go:121 does, the value before the request, read before the (conditional) patch.
        this.request = { requestedAt, before: resumed.before.status?.lastHandledReconcileAt };
        this.log(`resumed ${this.cluster.label} and requested a reconcile (${RECONCILE_ANNOTATION}=${requestedAt})`);
        return true;
    }

    /** What shows that someone resumed the Bucket, or Flux fetched, while bucketops wrote; undefined when nothing does. */
    private interference(bucket: FluxObject): string | undefined {
        if (this.suspendedGeneration === undefined) return undefined; // not suspended by this run (a Bucket left suspended)
        const signs: string[] = [];
        if (bucket.spec.suspend !== true) signs.push(`${this.cluster.label} was resumed by someone else while bucketops wrote`);
        else if (this.mark !== undefined && bucket.metadata.annotations?.[SUSPENDED_ANNOTATION] !== this.mark) {
            const by = bucket.metadata.annotations?.[SUSPENDED_BY_ANNOTATION];
            signs.push(`${this.cluster.label} was resumed and suspended again${by ? ` by ${by} (${SUSPENDED_BY_ANNOTATION})` : " by someone else"} while bucketops wrote`);
        } else if ((bucket.metadata.generation ?? 0) > this.suspendedGeneration) {
            signs.push(`${this.cluster.label}'s spec changed while bucketops wrote (generation ${this.suspendedGeneration} → ${bucket.metadata.generation}): it may have been resumed meanwhile`);
        }
        const fetched = bucket.status?.artifact?.revision;
        if (fetched !== this.artifactAtSuspend) signs.push(`source-controller stored ${fetched} meanwhile`);
        return signs.length > 0 ? signs.join("; ") : undefined;
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
export async function openPublication(
    flags: ClusterFlags,
    store: ObjectStore,
    command: string,
    log: (line: string) => void,
    warn: (line: string) => void = log,
): Promise<AtomicPublish | undefined> {
    const outputs = stackOutputsOf(flags);
    const { given, any } = clusterAccessOf(flags, outputs);
    if (!any) return undefined;
    try {
        const cluster = await FluxCluster.open({ ...flags, timeoutMs: timeoutsOf(flags).requestMs }, outputs);
        return await AtomicPublish.forTarget(cluster, store.url.bucket, store.url.prefix, command, log, warn);
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
