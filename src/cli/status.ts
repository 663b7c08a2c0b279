import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import { PROVIDER_NAMES, PROVIDERS, type ProviderFacts } from "../bucket/providers.ts";
import { stackOutputsOf, timeoutsOf, type ConnectionFlags } from "./connection.ts";
import { CliError, UsageError } from "./errors.ts";
import { currentRevision } from "./revision.ts";
import { connectionFailure } from "./store/errors.ts";
import type { ObjectStore } from "./store/types.ts";

/** What `flux reconcile` sets; source-controller reconciles when the value changes. */
export const RECONCILE_ANNOTATION = "reconcile.fluxcd.io/requestedAt";
const SOURCE = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "buckets" };
const KUSTOMIZE = { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations" };

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

interface Condition {
    type: string;
    status: string;
    message?: string;
}

interface FluxObject {
    metadata: { name: string; namespace: string; annotations?: Record<string, string> };
    spec: Record<string, unknown> & { sourceRef?: { kind?: string; name?: string; namespace?: string } };
    status?: {
        artifact?: { revision?: string };
        lastAppliedRevision?: string;
        conditions?: Condition[];
    };
}

/** Prints whether the Bucket's artifact and its Kustomizations match the bucket's current revision. */
export async function status(
    options: StatusOptions,
    open: (url: string, flags: ConnectionFlags) => Promise<ObjectStore>,
): Promise<boolean> {
    // Loaded on demand: the Kubernetes client takes seconds to load and only this command needs it.
    const { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } = await import("@kubernetes/client-node");
    const outputs = stackOutputsOf(options);
    const config = kubeClient(new KubeConfig(), options, outputs.kubeconfig);
    const api = config.makeApiClient(CustomObjectsApi);
    const where: Where = {
        namespace: options.namespace ?? outputs.namespace ?? "flux-system",
        name: options.name ?? outputs.bucket ?? "flux-bucket",
        server: config.getCurrentCluster()!.server,
        timeoutMs: timeoutsOf(options).requestMs,
    };
    const cluster: Cluster = {
        bucket: async () => (await kube(() => api.getNamespacedCustomObject({ ...SOURCE, ...where }), where)) as FluxObject,
        kustomizations: async () =>
            ((await kube(() => api.listNamespacedCustomObject({ ...KUSTOMIZE, namespace: where.namespace }), where)) as { items: FluxObject[] }).items,
    };
    const spec = (await cluster.bucket()).spec as unknown as IBucketSpec;

    if (options.reconcile) {
        const requestedAt = new Date().toISOString();
        const body = { metadata: { annotations: { [RECONCILE_ANNOTATION]: requestedAt } } };
        await kube(
            () => api.patchNamespacedCustomObject({ ...SOURCE, ...where, body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)),
            where,
        );
        options.log(`requested reconciliation of Bucket ${where.namespace}/${where.name} (${RECONCILE_ANNOTATION}=${requestedAt})`);
    }

    const { store, url } = await bucketStore(spec, where, options, open);
    const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
    for (;;) {
        const { revision, indexed } = await currentRevision(store, spec.prefix ?? "", spec.ignore);
        const lines = [`bucket ${url} (${store.description}): ${revision}, ${indexed} object(s)`];
        const caughtUp = await compare(cluster, where, revision, lines);
        if (caughtUp || Date.now() >= deadline) {
            lines.forEach((line) => options.log(line));
            options.log(caughtUp ? "cluster has caught up with the bucket" : "cluster has NOT caught up with the bucket yet");
            return caughtUp;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min((options.intervalSeconds ?? 2) * 1000, deadline - Date.now())));
    }
}

interface Cluster {
    bucket(): Promise<FluxObject>;
    kustomizations(): Promise<FluxObject[]>;
}

/** The bucket as the Bucket object describes it; the connection flags override its endpoint and region. */
async function bucketStore(
    spec: IBucketSpec,
    where: Where,
    options: StatusOptions,
    open: (url: string, flags: ConnectionFlags) => Promise<ObjectStore>,
): Promise<{ store: ObjectStore; url: string }> {
    const provider = spec.provider ?? "generic"; // the CRD's default
    const scheme = (PROVIDERS[provider] as ProviderFacts).scheme;
    if (!scheme) {
        const readable = PROVIDER_NAMES.filter((name) => (PROVIDERS[name] as ProviderFacts).scheme !== undefined);
        throw new CliError(`Bucket ${where.namespace}/${where.name} uses provider '${provider}'; bucketops reads ${readable.join(", ")} buckets`);
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

/** Reports the Bucket and every Kustomization in its namespace that uses it; true when all have `revision`. */
async function compare(cluster: Cluster, where: Where, revision: string, lines: string[]): Promise<boolean> {
    const bucket = await cluster.bucket();
    let caughtUp = report(`Bucket ${where.namespace}/${where.name}`, bucket.status?.artifact?.revision, bucket, revision, lines);
    const users = (await cluster.kustomizations()).filter(
        (k) =>
            k.spec.sourceRef?.kind === "Bucket" &&
            k.spec.sourceRef.name === where.name &&
            (k.spec.sourceRef.namespace ?? k.metadata.namespace) === where.namespace,
    );
    for (const k of users) {
        caughtUp = report(`Kustomization ${k.metadata.namespace}/${k.metadata.name}`, k.status?.lastAppliedRevision, k, revision, lines) && caughtUp;
    }
    if (users.length === 0) lines.push(`no Kustomization in ${where.namespace} uses Bucket ${where.name}`);
    return caughtUp;
}

interface Where {
    namespace: string;
    name: string;
    /** The API server, for messages, and how long a call may go unanswered. */
    server: string;
    timeoutMs: number;
}

function report(label: string, seen: string | undefined, object: FluxObject, revision: string, lines: string[]): boolean {
    const ready = object.status?.conditions?.find((c) => c.type === "Ready");
    const readyText = ready ? `Ready=${ready.status}${ready.status === "True" ? "" : ` (${ready.message ?? ""})`}` : "Ready=Unknown";
    const upToDate = seen === revision;
    lines.push(`  ${label}: ${seen ?? "no revision yet"}, ${readyText}: ${upToDate ? "up to date" : "behind"}`);
    return upToDate;
}

/** The kubeconfig from --kubeconfig, else the stack outputs, else KUBECONFIG / ~/.kube/config. */
/** What loadFromDefault reads: KUBECONFIG, ~/.kube/config, or a pod's service account. */
function defaultKubeconfigExists(): boolean {
    if (process.env.KUBECONFIG) return true;
    if (process.env.KUBERNETES_SERVICE_HOST) return true;
    return existsSync(path.join(homedir(), ".kube", "config"));
}

function kubeClient(config: KubeConfig, options: StatusOptions, fromStack: string | undefined): KubeConfig {
    if (!options.kubeconfig && !fromStack && !defaultKubeconfigExists()) {
        // loadFromDefault would fall back to http://localhost:8080 and fail later with an unrelated message.
        throw new UsageError(
            "no kubeconfig: pass --kubeconfig, set KUBECONFIG, put one at ~/.kube/config, or use --from-stack-outputs with the infra stack's outputs",
        );
    }
    try {
        if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
        else if (fromStack) config.loadFromString(fromStack);
        else config.loadFromDefault();
        if (options.context) config.setCurrentContext(options.context);
    } catch (error) {
        throw new UsageError(`cannot load the kubeconfig: ${(error as Error).message}`);
    }
    const cluster = config.getCurrentCluster();
    if (cluster?.server.startsWith("http:") && !cluster.skipTLSVerify) {
        throw new UsageError(
            `the kubeconfig's cluster '${cluster.name}' has a plain-http server (${cluster.server}); the Kubernetes client uses ` +
                "http only when the cluster entry also sets insecure-skip-tls-verify: true (or use its https address)",
        );
    }
    if (!cluster) {
        throw new UsageError("no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or use --from-stack-outputs with a kubeconfig output");
    }
    return config;
}

/** A Kubernetes API call that gets no answer within the --timeout. */
class KubeTimeout extends Error {}

async function kube<T>(call: () => Promise<T>, where: Where): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KubeTimeout()), where.timeoutMs);
    });
    try {
        return await Promise.race([call(), timedOut]);
    } catch (error) {
        if (error instanceof KubeTimeout) {
            throw new CliError(
                `the Kubernetes API server at ${where.server} did not answer within ${where.timeoutMs / 1000} s: ` +
                    `check the kubeconfig's server address and the network, or raise --timeout`,
            );
        }
        const server = "the Kubernetes API server";
        const network = connectionFailure(error, server, "check the kubeconfig's server address and the network");
        if (network) throw network;
        const code = (error as { code?: number }).code;
        if (code === 404) {
            throw new CliError(`Bucket ${where.namespace}/${where.name} not found (or Flux's CRDs are not installed); pass --name/--namespace`);
        }
        if (code === 401 || code === 403) throw new CliError(`${server} refused the request (${code}): check the kubeconfig's credentials and RBAC`);
        throw new CliError(`${server}: ${(error as Error).message}`);
    } finally {
        clearTimeout(timer);
    }
}
