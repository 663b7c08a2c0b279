import { setTimeout as sleep } from "node:timers/promises";
import type { Condition, FluxCluster, FluxObject } from "./cluster.ts";
import { CliError } from "./errors.ts";

/** The Bucket fetched another revision than bucketops computed, or a Kustomization failed to apply it: exit 5. */
export class ApplyFailedError extends CliError {
    constructor(message: string) {
        super(message, 5);
    }
}

/** The cluster did not report the revision within --wait-timeout: exit 6. */
export class ApplyTimeoutError extends CliError {
    constructor(message: string) {
        super(message, 6);
    }
}

export interface WaitOptions {
    /** When the wait gives up. */
    deadline: number;
    intervalMs: number;
    log: (line: string) => void;
}

/**
 * Waits as `flux reconcile kustomization --with-source` does: first until source-controller handled the reconcile
 * requested at `requestedAt` (`status.lastHandledReconcileAt`) for the Bucket's current generation, and then checks
 * the artifact is `revision`; then until every Kustomization reading the Bucket applied it (`lastAppliedRevision`) and
 * is Ready at its current generation (kstatus). A Kustomization whose last attempt at the revision left it Ready=False,
 * or that is Stalled, has failed: its message names what failed. Progress is printed as each one changes.
 */
export async function waitForApply(cluster: FluxCluster, revision: string, requestedAt: string, options: WaitOptions): Promise<void> {
    const printed = new Map<string, string>();
    const say = (label: string, line: string) => {
        if (printed.get(label) === line) return;
        printed.set(label, line);
        options.log(`  ${label}: ${line}`);
    };
    const timeout = (what: string) =>
        new ApplyTimeoutError(`timed out waiting for ${what}; the bucket holds ${revision}. See 'bucketops status', or wait longer with --wait-timeout`);

    for (;;) {
        const bucket = await cluster.bucket();
        const handled = bucket.status?.lastHandledReconcileAt === requestedAt && current(bucket);
        if (handled) {
            const fetched = bucket.status?.artifact?.revision;
            const ready = condition(bucket, "Ready");
            if (fetched !== revision) {
                throw new ApplyFailedError(
                    ready?.status === "False"
                        ? `${cluster.label} failed to fetch the bucket: ${ready.message ?? ready.reason}`
                        : `${cluster.label} fetched ${fetched ?? "no artifact"}, not the ${revision} bucketops computed: Flux sees something else in the bucket (another writer, or an ignore rule bucketops does not know)`,
                );
            }
            say(cluster.label, `fetched ${revision}`);
            break;
        }
        say(cluster.label, "waiting for source-controller to fetch the bucket");
        if (Date.now() >= options.deadline) throw timeout(`${cluster.label} to fetch the bucket`);
        await sleep(Math.min(options.intervalMs, Math.max(0, options.deadline - Date.now())));
    }

    for (;;) {
        const kustomizations = await cluster.kustomizations();
        if (kustomizations.length === 0) {
            options.log(`  no Kustomization in ${cluster.namespace} uses ${cluster.label}: nothing to wait for`);
            return;
        }
        const failed: string[] = [];
        let pending = 0;
        for (const k of kustomizations) {
            const label = `Kustomization ${k.metadata.namespace}/${k.metadata.name}`;
            const state = kustomizationState(k, revision);
            say(label, state.line);
            if (state.kind === "failed") failed.push(`${label}: ${state.line}`);
            if (state.kind === "pending") pending++;
        }
        if (failed.length > 0) throw new ApplyFailedError(`the cluster failed to apply ${revision}:\n  ${failed.join("\n  ")}`);
        if (pending === 0) return;
        if (Date.now() >= options.deadline) throw timeout(`${pending} Kustomization(s) to apply it`);
        await sleep(Math.min(options.intervalMs, Math.max(0, options.deadline - Date.now())));
    }
}

function condition(object: FluxObject, type: string): Condition | undefined {
    return object.status?.conditions?.find((c) => c.type === type);
}

/** The controller has seen the object's current spec (kstatus: observedGeneration equals generation). */
function current(object: FluxObject): boolean {
    return object.metadata.generation === undefined || object.status?.observedGeneration === object.metadata.generation;
}

function kustomizationState(k: FluxObject, revision: string): { kind: "applied" | "failed" | "pending"; line: string } {
    const ready = condition(k, "Ready");
    const stalled = condition(k, "Stalled");
    if (stalled?.status === "True") return { kind: "failed", line: `stalled: ${stalled.message ?? stalled.reason ?? ""}` };
    if (k.status?.lastAppliedRevision === revision && ready?.status === "True" && current(k)) return { kind: "applied", line: `applied ${revision}` };
    if (k.status?.lastAttemptedRevision === revision && ready?.status === "False" && current(k) && ready.reason !== "Progressing") {
        return { kind: "failed", line: `failed (${ready.reason ?? "Ready=False"}): ${ready.message ?? ""}` };
    }
    return { kind: "pending", line: k.status?.lastAttemptedRevision === revision ? "applying" : `waiting (last applied ${k.status?.lastAppliedRevision ?? "nothing"})` };
}
