import { setTimeout as sleep } from "node:timers/promises";
import { RECONCILE_ANNOTATION, type Condition, type FluxCluster, type FluxObject } from "./cluster.ts";
import { ApplyFailedError, ApplyTimeoutError } from "./errors.ts";
import { Interrupts } from "./interrupts.ts";

/**
 * How bucketops reads Flux's objects, asks them to reconcile and waits for them: the one module `status`, the wait
 * after a push or rollback and the suspend barrier share. The rules are flux2 v2.8.8 `cmd/flux`'s (reconcile.go,
 * readiness.go) and the controllers' (source-controller v1.8.5, kustomize-controller v1.8.5, fluxcd/pkg runtime
 * v0.100.4), cited where they are used.
 */

export function condition(object: FluxObject, type: string): Condition | undefined {
    return object.status?.conditions?.find((c) => c.type === type);
}

/**
 * The Ready condition when it describes the object's current generation, else undefined. fluxcd/pkg
 * runtime/conditions/setter.go:53 stamps every condition with the generation it was computed for; flux2
 * cmd/flux/readiness.go:86-90 compares that, or status.observedGeneration when a condition carries none.
 */
export function currentReady(object: FluxObject): Condition | undefined {
    const ready = condition(object, "Ready");
    if (!ready) return undefined;
    const generation = object.metadata.generation;
    if (generation === undefined) return ready;
    const observed = ready.observedGeneration ? ready.observedGeneration : object.status?.observedGeneration;
    return observed === generation ? ready : undefined;
}

/** The controller has recorded the current generation as reconciled (kstatus: observedGeneration equals generation). */
export function observedCurrent(object: FluxObject): boolean {
    return object.metadata.generation === undefined || object.status?.observedGeneration === object.metadata.generation;
}

/** "Ready=True", or "Ready=False (message)", for reports. */
export function readyText(object: FluxObject): string {
    const ready = condition(object, "Ready");
    return ready ? `Ready=${ready.status}${ready.status === "True" ? "" : ` (${ready.message ?? ""})`}` : "Ready=Unknown";
}

/**
 * A reconcile request: `reconcile.fluxcd.io/requestedAt` set to `requestedAt`, and `status.lastHandledReconcileAt`
 * as it was then. flux2 cmd/flux/reconcile.go:146 waits until lastHandledReconcileAt differs from that value, not
 * until it equals its own request: a newer request by anyone else is handled too, and counts.
 */
export interface ReconcileRequest {
    requestedAt: string;
    /** status.lastHandledReconcileAt when the request was made. */
    before?: string;
}

/** A new value for the reconcile annotation: the time, as flux2 cmd/flux/reconcile.go:172 writes it (RFC 3339, nanoseconds there). */
export function requestTime(): string {
    return new Date().toISOString();
}

/** Has the controller handled a request made at or after `request` (flux2 cmd/flux/reconcile.go:146)? */
export function handled(object: FluxObject, request: ReconcileRequest): boolean {
    return object.status?.lastHandledReconcileAt !== request.before;
}

/** Asks source-controller to reconcile the Bucket now, as `flux reconcile source bucket` does (flux2 cmd/flux/reconcile.go:159-191). */
export async function requestBucketReconcile(cluster: FluxCluster): Promise<ReconcileRequest> {
    const requestedAt = requestTime();
    const patched = await cluster.update(() => ({ metadata: { annotations: { [RECONCILE_ANNOTATION]: requestedAt } } }));
    return { requestedAt, before: patched!.before.status?.lastHandledReconcileAt };
}

/**
 * Asks kustomize-controller to reconcile each Kustomization now (their source's new revision queues them too:
 * kustomize-controller v1.8.5 kustomization_manager.go:170-174). A refusal (RBAC that lets bucketops patch only the
 * Bucket) is a note: the source's revision change still queues them.
 */
export async function requestKustomizationReconciles(cluster: FluxCluster, kustomizations: FluxObject[], log: (line: string) => void): Promise<void> {
    const requestedAt = requestTime();
    for (const k of kustomizations) {
        try {
            await cluster.patchKustomization(k.metadata.name, { metadata: { annotations: { [RECONCILE_ANNOTATION]: requestedAt } } });
        } catch (error) {
            log(`  note: could not request a reconcile of Kustomization ${k.metadata.namespace}/${k.metadata.name} (${(error as Error).message}); its source's new revision queues it anyway`);
        }
    }
}

/** What one object says about a revision: applied (or fetched), failed (Flux reported why), or not yet. */
export interface Outcome {
    kind: "done" | "failed" | "pending";
    line: string;
}

/**
 * The Bucket after `request`: pending until source-controller handled it; then, for the current generation, fetched
 * `revision`, or failed with Ready=False's message. source-controller v1.8.5 records lastHandledReconcileAt at the end
 * of every reconcile (internal/reconcile/summarize/processor.go:42-46) but observedGeneration only on success or a
 * stall (internal/reconcile/reconcile.go:137-178): a fetch error (serror.Generic) leaves it behind while Ready=False
 * is stamped with the current generation, so the failure is read from the Ready condition's own generation.
 */
export function bucketOutcome(bucket: FluxObject, request: ReconcileRequest, revision: string): Outcome {
    if (!handled(bucket, request)) return { kind: "pending", line: "waiting for source-controller to fetch the bucket" };
    const stalled = condition(bucket, "Stalled");
    if (stalled?.status === "True") return { kind: "failed", line: `stalled (${stalled.reason ?? "Stalled"}): ${stalled.message ?? ""}` };
    const ready = currentReady(bucket);
    if (ready?.status === "False" && ready.reason !== "Progressing") {
        return { kind: "failed", line: `failed to fetch the bucket (${ready.reason ?? "Ready=False"}): ${ready.message ?? ""}` };
    }
    if (ready?.status !== "True" || !observedCurrent(bucket)) return { kind: "pending", line: "fetching the bucket" };
    const fetched = bucket.status?.artifact?.revision;
    if (fetched !== revision) {
        return {
            kind: "failed",
            line: `fetched ${fetched ?? "no artifact"}, not the ${revision} bucketops computed: Flux sees something else in the bucket (another writer, or an ignore rule bucketops does not know)`,
        };
    }
    return { kind: "done", line: `fetched ${revision}` };
}

/**
 * A Kustomization and `revision`: applied once lastAppliedRevision is it and Ready=True at the current generation;
 * failed once its attempt at it left Ready=False (not Progressing) for the current generation, or it is Stalled.
 * kustomize-controller v1.8.5 sets observedGeneration only when Ready=True (internal/controller/
 * kustomization_controller.go:1232-1237), so a first apply that fails has none: the Ready condition's generation decides.
 */
export function kustomizationOutcome(k: FluxObject, revision: string): Outcome {
    const stalled = condition(k, "Stalled");
    if (stalled?.status === "True") return { kind: "failed", line: `stalled (${stalled.reason ?? "Stalled"}): ${stalled.message ?? ""}` };
    const ready = currentReady(k);
    if (k.status?.lastAppliedRevision === revision && ready?.status === "True" && observedCurrent(k)) return { kind: "done", line: `applied ${revision}` };
    if (k.status?.lastAttemptedRevision === revision && ready?.status === "False" && ready.reason !== "Progressing") {
        return { kind: "failed", line: `failed (${ready.reason ?? "Ready=False"}): ${ready.message ?? ""}` };
    }
    return { kind: "pending", line: k.status?.lastAttemptedRevision === revision ? "applying" : `waiting (last applied ${k.status?.lastAppliedRevision ?? "nothing"})` };
}

export interface PollOptions {
    /** When polling gives up (ms since the epoch). */
    deadline: number;
    intervalMs: number;
}

/**
 * The one poll loop: runs `step` until it returns a value or the deadline passes (then undefined). Ctrl-C or SIGTERM
 * during a write (Interrupts) ends it at once with InterruptedError.
 */
export async function poll<T>(step: () => Promise<T | undefined>, options: PollOptions): Promise<T | undefined> {
    for (;;) {
        Interrupts.check();
        const result = await step();
        if (result !== undefined) return result;
        if (Date.now() >= options.deadline) return undefined;
        const signal = Interrupts.current;
        await sleep(Math.min(options.intervalMs, Math.max(0, options.deadline - Date.now())), undefined, { signal }).catch(() => Interrupts.check());
    }
}

export interface WaitOptions extends PollOptions {
    log: (line: string) => void;
}

/**
 * Waits as `flux reconcile kustomization --with-source` does (flux2 cmd/flux/reconcile_with_source.go:69-98): first
 * the Bucket handles `request` and fetches `revision`; then every Kustomization reading it applies it. Progress is
 * printed as each object changes; a failure Flux reports ends the wait at once (ApplyFailedError, exit 5), naming the
 * object and Flux's message; running out of time is ApplyTimeoutError (exit 6).
 */
export async function waitForApply(cluster: FluxCluster, revision: string, request: ReconcileRequest, options: WaitOptions): Promise<void> {
    const printed = new Map<string, string>();
    const say = (label: string, line: string) => {
        if (printed.get(label) === line) return;
        printed.set(label, line);
        options.log(`  ${label}: ${line}`);
    };
    const timeout = (what: string) =>
        new ApplyTimeoutError(`timed out waiting for ${what}; the bucket holds ${revision}. See 'bucketops status', or wait longer with --wait-timeout`);

    const fetched = await poll(async () => {
        const outcome = bucketOutcome(await cluster.bucket(), request, revision);
        say(cluster.label, outcome.line);
        if (outcome.kind === "failed") throw new ApplyFailedError(`${cluster.label} ${outcome.line}`);
        return outcome.kind === "done" ? true : undefined;
    }, options);
    if (!fetched) throw timeout(`${cluster.label} to fetch the bucket`);

    // Then the Kustomizations, as --with-source does once the source is ready (reconcile_with_source.go:86-92).
    const kustomizations = await cluster.kustomizations();
    if (kustomizations.length === 0) {
        options.log(`  no Kustomization in ${cluster.namespace} uses ${cluster.label}: nothing to wait for`);
        return;
    }
    await requestKustomizationReconciles(cluster, kustomizations, options.log);
    let pending = 0;
    const applied = await poll(async () => {
        const kustomizations = await cluster.kustomizations();
        const failed: string[] = [];
        pending = 0;
        for (const k of kustomizations) {
            const label = `Kustomization ${k.metadata.namespace}/${k.metadata.name}`;
            const outcome = kustomizationOutcome(k, revision);
            say(label, outcome.line);
            if (outcome.kind === "failed") failed.push(`${label}: ${outcome.line}`);
            if (outcome.kind === "pending") pending++;
        }
        if (failed.length > 0) throw new ApplyFailedError(`the cluster failed to apply ${revision}:\n  ${failed.join("\n  ")}`);
        return pending === 0 ? true : undefined;
    }, options);
    if (!applied) throw timeout(`${pending} Kustomization(s) to apply it`);
}

/** One line per object for `status`: the Bucket's artifact and each Kustomization's applied revision against `revision`. */
export async function clusterReport(cluster: FluxCluster, revision: string): Promise<{ lines: string[]; caughtUp: boolean }> {
    const lines: string[] = [];
    const report = (label: string, seen: string | undefined, object: FluxObject) => {
        const upToDate = seen === revision;
        lines.push(`  ${label}: ${seen ?? "no revision yet"}, ${readyText(object)}: ${upToDate ? "up to date" : "behind"}`);
        return upToDate;
    };
    const bucket = await cluster.bucket();
    let caughtUp = report(cluster.label, bucket.status?.artifact?.revision, bucket);
    const users = await cluster.kustomizations();
    for (const k of users) caughtUp = report(`Kustomization ${k.metadata.namespace}/${k.metadata.name}`, k.status?.lastAppliedRevision, k) && caughtUp;
    if (users.length === 0) lines.push(`no Kustomization in ${cluster.namespace} uses Bucket ${cluster.name}`);
    return { lines, caughtUp };
}
