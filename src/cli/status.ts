import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import { openCluster, RECONCILE_ANNOTATION } from "./cluster.ts";
import { bucketStore, type OpenStore } from "./connection.ts";
import { CliError } from "./errors.ts";
import { DEFAULTS, type ClusterFlags } from "./flags.ts";
import { repairSuspension, suspendedByBucketops } from "./publish.ts";
import { clusterReport, poll, requestBucketReconcile } from "./readiness.ts";
import { currentRevision } from "./revision.ts";

export interface StatusOptions extends ClusterFlags {
    reconcile?: boolean;
    /** Poll until caught up, for at most this long. */
    waitSeconds?: number;
    intervalSeconds?: number;
    log: (line: string) => void;
}

/** Prints whether the Bucket's artifact and its Kustomizations match the bucket's current revision; true when they do. */
export async function status(options: StatusOptions, open: OpenStore): Promise<boolean> {
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
        const { requestedAt } = await requestBucketReconcile(cluster);
        options.log(`requested reconciliation of ${cluster.label} (${RECONCILE_ANNOTATION}=${requestedAt})`);
    }

    const { store, url } = await bucketStore(spec, cluster.label, options, open);
    const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
    let last: { lines: string[]; caughtUp: boolean } | undefined;
    await poll(
        async () => {
            const { revision, indexed } = await currentRevision(store, spec.prefix ?? "", spec.ignore);
            const report = await clusterReport(cluster, revision);
            last = { lines: [`bucket ${url} (${store.description}): ${revision}, ${indexed} object(s)`, ...report.lines], caughtUp: report.caughtUp };
            return report.caughtUp ? true : undefined;
        },
        { deadline, intervalMs: (options.intervalSeconds ?? DEFAULTS.statusInterval) * 1000 },
    );
    last!.lines.forEach((line) => options.log(line));
    options.log(last!.caughtUp ? "cluster has caught up with the bucket" : "cluster has NOT caught up with the bucket yet");
    return last!.caughtUp;
}
