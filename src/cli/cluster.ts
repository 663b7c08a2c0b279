import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import type { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { CliError, ConcurrentChangeError, errorMessages, plainHttpAnswer, UsageError } from "./errors.ts";
import { connectionFailure } from "./store/errors.ts";
import { stackOutputsOf, timeoutsOf } from "./connection.ts";
import type { ClusterFlags } from "./flags.ts";

/** What `flux reconcile` sets; source-controller reconciles when the value changes. */
export const RECONCILE_ANNOTATION = "reconcile.fluxcd.io/requestedAt";
/** The field manager of bucketops' patches, so that `kubectl get --show-managed-fields` names it. */
export const FIELD_MANAGER = "bucketops";
const SOURCE = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "buckets" };
const KUSTOMIZE = { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations" };

export interface Condition {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    /** The generation the controller computed it for (fluxcd/pkg runtime/conditions/setter.go:53). */
    observedGeneration?: number;
}

export interface FluxObject {
    metadata: { name: string; namespace: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string> };
    spec: Record<string, unknown> & { sourceRef?: { kind?: string; name?: string; namespace?: string }; suspend?: boolean };
    status?: {
        observedGeneration?: number;
        lastHandledReconcileAt?: string;
        artifact?: { revision?: string };
        lastAppliedRevision?: string;
        lastAttemptedRevision?: string;
        conditions?: Condition[];
        inventory?: unknown;
    };
}

export interface ClusterOptions {
    kubeconfig?: string;
    context?: string;
    /** Default: the flux stack outputs' namespace, else flux-system. */
    namespace?: string;
    /** Default: the flux stack outputs' bucket, else flux-bucket. */
    name?: string;
    /** How long one API call may go unanswered. */
    timeoutMs: number;
}

/** The stack outputs a cluster is found from when the flags do not say. */
export interface ClusterOutputs {
    kubeconfig?: string;
    namespace?: string;
    bucket?: string;
}

/** Conflicts (the Bucket changed between our read and our patch, e.g. source-controller's status update) retried in a row. */
const MAX_CONFLICTS = 5;

/** A merge patch refused because the object changed since it was read (409): read it again and retry. */
export class ConflictError extends ConcurrentChangeError {}

/** The Flux Bucket bucketops works with, and the Kustomizations that read it, through the Kubernetes API. */
export class FluxCluster {
    readonly namespace: string;
    readonly name: string;
    /** The API server, for messages. */
    readonly server: string;
    private readonly api: CustomObjectsApi;
    private readonly timeoutMs: number;
    private readonly mergePatch: Parameters<CustomObjectsApi["patchNamespacedCustomObject"]>[1];

    private constructor(api: CustomObjectsApi, server: string, options: ClusterOptions & { namespace: string; name: string }, mergePatch: FluxCluster["mergePatch"]) {
        this.api = api;
        this.server = server;
        this.namespace = options.namespace;
        this.name = options.name;
        this.timeoutMs = options.timeoutMs;
        this.mergePatch = mergePatch;
    }

    static async open(options: ClusterOptions, outputs: ClusterOutputs): Promise<FluxCluster> {
        // Loaded on demand: the Kubernetes client takes a while to load and only the cluster paths need it.
        const { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } = await import("@kubernetes/client-node");
        const config = kubeClient(new KubeConfig(), options, outputs.kubeconfig);
        return new FluxCluster(
            config.makeApiClient(CustomObjectsApi),
            config.getCurrentCluster()!.server,
            { ...options, namespace: options.namespace ?? outputs.namespace ?? "flux-system", name: options.name ?? outputs.bucket ?? "flux-bucket" },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
    }

    get label(): string {
        return `Bucket ${this.namespace}/${this.name}`;
    }

    async bucket(): Promise<FluxObject> {
        return (await this.call(this.label, () => this.api.getNamespacedCustomObject({ ...SOURCE, namespace: this.namespace, name: this.name }))) as FluxObject;
    }

    /** A JSON merge patch of the Bucket by bucketops' field manager; with `resourceVersion`, only if it is still that one. */
    async patchBucket(body: Record<string, unknown>, resourceVersion?: string): Promise<FluxObject> {
        const metadata = { ...(body.metadata as object | undefined), ...(resourceVersion ? { resourceVersion } : {}) };
        return (await this.call(this.label, () =>
            this.api.patchNamespacedCustomObject(
                { ...SOURCE, namespace: this.namespace, name: this.name, body: { ...body, metadata }, fieldManager: FIELD_MANAGER },
                this.mergePatch,
            ),
        )) as FluxObject;
    }

    /**
     * Reads the Bucket and applies `change(bucket)` as a merge patch conditional on the resourceVersion read, reading it
     * again after a conflict (a controller's status update in between), at most MAX_CONFLICTS times in a row, as flux2's
     * requestReconciliation does with retry.RetryOnConflict (cmd/flux/reconcile.go:161). Returns the Bucket as read
     * before the patch and as patched; undefined when `change` declined to patch.
     */
    async update(change: (bucket: FluxObject) => Record<string, unknown> | undefined): Promise<{ before: FluxObject; after: FluxObject } | undefined> {
        for (let conflicts = 0; ; conflicts++) {
            const before = await this.bucket();
            const body = change(before);
            if (!body) return undefined;
            try {
                return { before, after: await this.patchBucket(body, before.metadata.resourceVersion) };
            } catch (error) {
                if (!(error instanceof ConflictError) || conflicts + 1 >= MAX_CONFLICTS) {
                    throw error instanceof ConflictError ? new ConcurrentChangeError(`${this.label} changed under each of ${MAX_CONFLICTS} patches; re-run`) : error;
                }
            }
        }
    }

    /** A JSON merge patch of one of the Bucket's Kustomizations by bucketops' field manager (a reconcile request). */
    async patchKustomization(name: string, body: Record<string, unknown>): Promise<FluxObject> {
        return (await this.call(`Kustomization ${this.namespace}/${name}`, () =>
            this.api.patchNamespacedCustomObject({ ...KUSTOMIZE, namespace: this.namespace, name, body, fieldManager: FIELD_MANAGER }, this.mergePatch),
        )) as FluxObject;
    }

    /** The Kustomizations (in the Bucket's namespace) whose source is this Bucket. */
    async kustomizations(): Promise<FluxObject[]> {
        const { items } = (await this.call(`Kustomizations in ${this.namespace}`, () => this.api.listNamespacedCustomObject({ ...KUSTOMIZE, namespace: this.namespace }))) as { items: FluxObject[] };
        return items.filter(
            (k) => k.spec.sourceRef?.kind === "Bucket" && k.spec.sourceRef.name === this.name && (k.spec.sourceRef.namespace ?? k.metadata.namespace) === this.namespace,
        );
    }

    private async call<T>(label: string, call: () => Promise<T>): Promise<T> {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new KubeTimeout()), this.timeoutMs);
        });
        try {
            return await Promise.race([call(), timedOut]);
        } catch (error) {
            throw this.explain(error, label);
        } finally {
            clearTimeout(timer);
        }
    }

    private explain(error: unknown, label: string): Error {
        if (error instanceof KubeTimeout) {
            return new CliError(
                `the Kubernetes API server at ${this.server} did not answer within ${this.timeoutMs / 1000} s: ` +
                    `check the kubeconfig's server address and the network, or raise --timeout`,
            );
        }
        const server = `the Kubernetes API server at ${this.server}`;
        if (plainHttpAnswer(error)) {
            return new CliError(
                `${server} answers plain http, not https (TLS: "wrong version number"): check the kubeconfig's server address (its port; ` +
                    `a plain-http server needs an http:// address with insecure-skip-tls-verify: true)`,
            );
        }
        const network = connectionFailure(error, server, "check the kubeconfig's server address and the network");
        if (network) return network;
        const code = (error as { code?: number }).code;
        if (code === 404) return new CliError(`${label} not found (or Flux's CRDs are not installed); pass --name/--namespace`);
        if (code === 409) return new ConflictError(`${label} changed while bucketops was patching it`);
        if (code === 401 || code === 403) return new CliError(`${server} refused the request (${code}): check the kubeconfig's credentials and RBAC`);
        // undici's "fetch failed" says why only in its causes (a TLS error, a bad port, a proxy).
        const [message, ...causes] = errorMessages(error);
        return new CliError(`${server}: ${message ?? String(error)}${causes.length ? ` (${causes.join(": ")})` : ""}`);
    }
}

/** The cluster from the flags: a kubeconfig from --kubeconfig, the stack outputs, KUBECONFIG or ~/.kube/config. */
export async function openCluster(flags: ClusterFlags): Promise<FluxCluster> {
    return FluxCluster.open({ ...flags, timeoutMs: timeoutsOf(flags).requestMs }, stackOutputsOf(flags));
}

/** A Kubernetes API call that gets no answer within the --timeout. */
class KubeTimeout extends Error {}

/** What loadFromDefault reads: KUBECONFIG, ~/.kube/config, or a pod's service account. */
function defaultKubeconfigExists(): boolean {
    if (process.env.KUBECONFIG) return true;
    if (process.env.KUBERNETES_SERVICE_HOST) return true;
    return existsSync(path.join(homedir(), ".kube", "config"));
}

/** The kubeconfig from --kubeconfig, else the stack outputs, else KUBECONFIG / ~/.kube/config. */
function kubeClient(config: KubeConfig, options: ClusterOptions, fromStack: string | undefined): KubeConfig {
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
