import type { KubeConfig } from "@kubernetes/client-node";
import { readStackOutputs, type ConnectionFlags } from "./connection";
import { CliError, UsageError } from "./errors";
import { currentRevision } from "./revision";
import { connectionFailure } from "./store/errors";
import type { ObjectStore } from "./store/types";

/** What `flux reconcile` sets; source-controller reconciles when the value changes. */
export const RECONCILE_ANNOTATION = "reconcile.fluxcd.io/requestedAt";
const SOURCE = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "buckets" };
const KUSTOMIZE = { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations" };

export interface StatusOptions extends ConnectionFlags {
    kubeconfig?: string;
    context?: string;
    namespace: string;
    name: string;
    reconcile?: boolean;
    /** Poll until caught up, for at most this long. */
    waitSeconds?: number;
    intervalSeconds?: number;
    log: (line: string) => void;
    /** Clock for the annotation value (tests). */
    now?: () => Date;
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

const S3_PROVIDERS = new Set(["generic", "aws", undefined]);

/** Prints whether the Bucket's artifact and its Kustomizations match the bucket's current revision. */
export async function status(
    options: StatusOptions,
    open: (url: string, flags: ConnectionFlags) => ObjectStore,
): Promise<boolean> {
    // Loaded on demand: the Kubernetes client takes seconds to load and only this command needs it.
    const { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } = await import("@kubernetes/client-node");
    const api = kubeClient(new KubeConfig(), options).makeApiClient(CustomObjectsApi);
    const where = { namespace: options.namespace, name: options.name };
    const readBucket = async () =>
        (await kube(() => api.getNamespacedCustomObject({ ...SOURCE, ...where }), options)) as FluxObject;
    const spec = (await readBucket()).spec as BucketSpec;

    if (options.reconcile) {
        const requestedAt = (options.now?.() ?? new Date()).toISOString();
        await kube(
            () =>
                api.patchNamespacedCustomObject(
                    { ...SOURCE, ...where, body: { metadata: { annotations: { [RECONCILE_ANNOTATION]: requestedAt } } } },
                    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
                ),
            options,
        );
        options.log(`requested reconciliation of Bucket ${options.namespace}/${options.name} (${RECONCILE_ANNOTATION}=${requestedAt})`);
    }

    const scheme = S3_PROVIDERS.has(spec.provider) ? "s3" : spec.provider === "gcp" ? "gs" : undefined;
    if (!scheme) throw new CliError(`Bucket ${options.namespace}/${options.name} uses provider '${spec.provider}'; bucketops reads generic, aws and gcp buckets`);
    const prefix = spec.prefix ?? "";
    const url = `${scheme}://${spec.bucketName}/${prefix}`;
    const store = open(url, {
        ...options,
        endpoint: options.endpoint ?? (scheme === "s3" ? spec.endpoint : undefined),
        insecure: options.insecure ?? spec.insecure,
        region: options.region ?? spec.region,
    });

    const deadline = Date.now() + (options.waitSeconds ?? 0) * 1000;
    for (;;) {
        const lines: string[] = [];
        const { revision, indexed } = await currentRevision(store, prefix, spec.ignore);
        lines.push(`bucket ${url} (${store.description}): ${revision}, ${indexed} object(s)`);
        const bucket = await readBucket();
        let caughtUp = report(`Bucket ${options.namespace}/${options.name}`, bucket.status?.artifact?.revision, bucket, revision, lines);
        const list = (await kube(() => api.listNamespacedCustomObject({ ...KUSTOMIZE, namespace: options.namespace }), options)) as { items: FluxObject[] };
        const users = list.items.filter(
            (k) =>
                k.spec.sourceRef?.kind === "Bucket" &&
                k.spec.sourceRef.name === options.name &&
                (k.spec.sourceRef.namespace ?? k.metadata.namespace) === options.namespace,
        );
        for (const k of users) {
            const label = `Kustomization ${k.metadata.namespace}/${k.metadata.name}`;
            caughtUp = report(label, k.status?.lastAppliedRevision, k, revision, lines) && caughtUp;
        }
        if (users.length === 0) lines.push(`no Kustomization in ${options.namespace} uses Bucket ${options.name}`);
        if (caughtUp || Date.now() >= deadline) {
            lines.forEach((line) => options.log(line));
            options.log(caughtUp ? "cluster has caught up with the bucket" : "cluster has NOT caught up with the bucket yet");
            return caughtUp;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min((options.intervalSeconds ?? 2) * 1000, deadline - Date.now())));
    }
}

interface BucketSpec {
    provider?: string;
    bucketName?: string;
    endpoint?: string;
    insecure?: boolean;
    region?: string;
    prefix?: string;
    ignore?: string;
}

function report(label: string, seen: string | undefined, object: FluxObject, revision: string, lines: string[]): boolean {
    const ready = object.status?.conditions?.find((c) => c.type === "Ready");
    const readyText = ready ? `Ready=${ready.status}${ready.status === "True" ? "" : ` (${ready.message ?? ""})`}` : "Ready=Unknown";
    const upToDate = seen === revision;
    lines.push(`  ${label}: ${seen ?? "no revision yet"}, ${readyText}: ${upToDate ? "up to date" : "behind"}`);
    return upToDate;
}

function kubeClient(config: KubeConfig, options: StatusOptions): KubeConfig {
    try {
        if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
        else {
            const fromStack = options.fromStackOutputs ? readStackOutputs(options.fromStackOutputs).kubeconfig : undefined;
            if (fromStack) config.loadFromString(fromStack);
            else config.loadFromDefault();
        }
        if (options.context) config.setCurrentContext(options.context);
    } catch (error) {
        throw new UsageError(`cannot load the kubeconfig: ${(error as Error).message}`);
    }
    if (!config.getCurrentCluster()) {
        throw new UsageError("no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or use --from-stack-outputs with a kubeconfig output");
    }
    return config;
}

async function kube<T>(call: () => Promise<T>, options: StatusOptions): Promise<T> {
    try {
        return await call();
    } catch (error) {
        const server = "the Kubernetes API server";
        const network = connectionFailure(error, server, "check the kubeconfig's server address and the network");
        if (network) throw network;
        const code = (error as { code?: number }).code;
        if (code === 404) {
            throw new CliError(`Bucket ${options.namespace}/${options.name} not found (or Flux's CRDs are not installed); pass --name/--namespace`);
        }
        if (code === 401 || code === 403) throw new CliError(`${server} refused the request (${code}): check the kubeconfig's credentials and RBAC`);
        throw new CliError(`${server}: ${(error as Error).message}`);
    }
}
