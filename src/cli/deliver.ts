import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import { isLeaseKey, normalizePrefix } from "../bucket/keys.ts";
import { PROVIDER_NAMES, PROVIDERS, type ProviderFacts } from "../bucket/providers.ts";
import { FluxCluster, type ClusterOptions } from "./cluster.ts";
import { stackOutputsOf, timeoutsOf, type ConnectionFlags } from "./connection.ts";
import { UserError } from "../errors.ts";
import { CliError } from "./errors.ts";
import { AtomicPublish, suspendedByBucketops } from "./publish.ts";
import { currentRevision } from "./revision.ts";
import type { ObjectStore } from "./store/types.ts";
import { waitForApply } from "./waitForApply.ts";

/** The cluster flags of push, rollback, status and resume. */
export interface ClusterFlags extends ConnectionFlags, Omit<ClusterOptions, "timeoutMs"> {
    /** --no-cluster: publish without the cluster even when a kubeconfig is there. */
    cluster?: boolean;
}

export interface WaitFlags {
    /** --no-wait: resume the Bucket, and exit without waiting for the apply. */
    wait: boolean;
    waitTimeout: number;
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

/** The cluster of status and resume: a kubeconfig from the flags, the stack outputs, KUBECONFIG or ~/.kube/config. */
export async function openCluster(flags: ClusterFlags): Promise<FluxCluster> {
    return FluxCluster.open({ ...flags, timeoutMs: timeoutsOf(flags).requestMs }, stackOutputsOf(flags));
}

/**
 * After a publish that resumed the Bucket: waits until the cluster applied what the bucket now holds, as the Bucket
 * reads it (its prefix and spec.ignore). Returns the revision applied; throws ApplyFailedError or ApplyTimeoutError.
 */
export async function awaitApply(publication: AtomicPublish, store: ObjectStore, flags: WaitFlags, log: (line: string) => void): Promise<string | undefined> {
    if (!publication.requestedAt || !flags.wait) return undefined;
    const { spec } = await publication.cluster.bucket();
    const { revision } = await currentRevision(store, String(spec.prefix ?? ""), spec.ignore as string | undefined);
    log(`waiting up to ${flags.waitTimeout} s for the cluster to apply ${revision} (--no-wait skips this)`);
    await waitForApply(publication.cluster, revision, publication.requestedAt, { deadline: Date.now() + flags.waitTimeout * 1000, intervalMs: 1000, log });
    log(`applied: the cluster runs ${revision}`);
    return revision;
}

/**
 * Resumes a Bucket that bucketops suspended and a run that died left so, once the prefix is whole: no lease under the
 * Bucket's prefix (a lease left there means a push or rollback is under way, or stopped half-way). `force` resumes
 * anyway. Returns what it did, for the caller to print.
 */
export async function repairSuspension(
    cluster: FluxCluster,
    flags: ConnectionFlags,
    open: (url: string, flags: ConnectionFlags) => Promise<ObjectStore>,
    force: boolean,
): Promise<string> {
    const bucket = await cluster.bucket();
    const by = suspendedByBucketops(bucket);
    if (by === undefined) {
        return bucket.spec.suspend === true ? `${cluster.label} is suspended, not by bucketops: left alone` : `${cluster.label} is not suspended`;
    }
    const prefix = normalizePrefix(String(bucket.spec.prefix ?? ""));
    const { store } = await bucketStore(bucket.spec as unknown as IBucketSpec, cluster, flags, open);
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

/** The bucket as the Bucket object describes it; the connection flags override its endpoint and region. */
export async function bucketStore(
    spec: IBucketSpec,
    cluster: FluxCluster,
    options: ConnectionFlags,
    open: (url: string, flags: ConnectionFlags) => Promise<ObjectStore>,
): Promise<{ store: ObjectStore; url: string }> {
    const provider = spec.provider ?? "generic"; // the CRD's default
    const scheme = (PROVIDERS[provider] as ProviderFacts).scheme;
    if (!scheme) {
        const readable = PROVIDER_NAMES.filter((name) => (PROVIDERS[name] as ProviderFacts).scheme !== undefined);
        throw new CliError(`${cluster.label} uses provider '${provider}'; bucketops reads ${readable.join(", ")} buckets`);
    }
    const url = `${scheme}://${spec.bucketName}/${spec.prefix ?? ""}`;
    const store = await open(url, {
        ...options,
        endpoint: options.endpoint ?? (scheme === "s3" ? spec.endpoint : undefined),
        insecure: options.insecure ?? spec.insecure,
        region: options.region ?? spec.region,
    });
    return { store, url };
}
