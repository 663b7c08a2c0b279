import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import { RECONCILE_ANNOTATION, type FluxCluster, type FluxObject } from "./cluster.ts";
import type { ConnectionFlags } from "./connection.ts";
import { CliError } from "./errors.ts";
import { bucketStore, openCluster, repairSuspension } from "./deliver.ts";
import { suspendedByBucketops } from "./publish.ts";
import { currentRevision } from "./revision.ts";
import type { ObjectStore } from "./store/types.ts";

export interface StatusOptions extends ConnectionFlags {
    kubeconfig?: string;
    context?: string;
    /** Default: the flux stack outputs' namespace, else flux-system. */
    namespace?: string;
    /** Default: the flux stack outputs' bucket, else flux-bucket. */
    name?: string;
    reconcile?: boolean;
    /** Poll until caught up, for at most this long. */
    waitSeconds?: number;
    intervalSeconds?: number;
    log: (line: string) => void;
}

/** Prints whether the Bucket's artifact and its Kustomizations match the bucket's current revision. */
export async function status(
    options: StatusOptions,
    open: (url: string, flags: ConnectionFlags) => Promise<ObjectStore>,
): Promise<boolean> {
    const cluster = await openCluster(options);
    const bucket = await cluster.bucket();
    const spec = bucket.spec as unknown as IBucketSpec;
    // A Bucket that a push or rollback suspended and did not resume (it died): resumed once the prefix is whole.
    if (suspendedByBucketops(bucket)) {
        try {
            options.log(await repairSuspension(cluster, options, open, false));
        } catch (error) {
            if (!(error instanceof CliError)) throw error;
            options.log(`note: ${error.message}`);
        }
    }

    if (options.reconcile) {
        const requestedAt = new Date().toISOString();
        await cluster.patchBucket({ metadata: { annotations: { [RECONCILE_ANNOTATION]: requestedAt } } });
        options.log(`requested reconciliation of ${cluster.label} (${RECONCILE_ANNOTATION}=${requestedAt})`);
    }

    const { store, url } = await bucketStore(spec, cluster, options, open);
    const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
    for (;;) {
        const { revision, indexed } = await currentRevision(store, spec.prefix ?? "", spec.ignore);
        const lines = [`bucket ${url} (${store.description}): ${revision}, ${indexed} object(s)`];
        const caughtUp = await compare(cluster, revision, lines);
        if (caughtUp || Date.now() >= deadline) {
            lines.forEach((line) => options.log(line));
            options.log(caughtUp ? "cluster has caught up with the bucket" : "cluster has NOT caught up with the bucket yet");
            return caughtUp;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min((options.intervalSeconds ?? 2) * 1000, deadline - Date.now())));
    }
}

/** Reports the Bucket and every Kustomization in its namespace that uses it; true when all have `revision`. */
async function compare(cluster: FluxCluster, revision: string, lines: string[]): Promise<boolean> {
    const bucket = await cluster.bucket();
    let caughtUp = report(cluster.label, bucket.status?.artifact?.revision, bucket, revision, lines);
    const users = await cluster.kustomizations();
    for (const k of users) {
        caughtUp = report(`Kustomization ${k.metadata.namespace}/${k.metadata.name}`, k.status?.lastAppliedRevision, k, revision, lines) && caughtUp;
    }
    if (users.length === 0) lines.push(`no Kustomization in ${cluster.namespace} uses Bucket ${cluster.name}`);
    return caughtUp;
}

function report(label: string, seen: string | undefined, object: FluxObject, revision: string, lines: string[]): boolean {
    const ready = object.status?.conditions?.find((c) => c.type === "Ready");
    const readyText = ready ? `Ready=${ready.status}${ready.status === "True" ? "" : ` (${ready.message ?? ""})`}` : "Ready=Unknown";
    const upToDate = seen === revision;
    lines.push(`  ${label}: ${seen ?? "no revision yet"}, ${readyText}: ${upToDate ? "up to date" : "behind"}`);
    return upToDate;
}
