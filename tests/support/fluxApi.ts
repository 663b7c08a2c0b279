import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { BUCKETOPS_IGNORE } from "../../src/bucket/keys.ts";
import { ignoreMatcher, readPatterns } from "../../src/cli/sourceignore.ts";

export interface ApiRequest {
    method: string;
    path: string;
    query: URLSearchParams;
    contentType: string;
    /** The Authorization header the client sent (its credential, e.g. a token from a kubeconfig's exec plugin). */
    authorization?: string;
    body?: Record<string, any>;
    /** The Bucket as it was when the request arrived. */
    suspended: boolean;
}

type FluxObject = Record<string, any>;

/** An update of an object as a watch delivers it (controller-runtime's event.UpdateEvent): the object before and after. */
export interface WatchEvent {
    kind: "Bucket" | "Kustomization";
    old: FluxObject;
    new: FluxObject;
}

const BUCKET_PATH = /^\/apis\/source\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/buckets\/([^/]+)$/;
const KUSTOMIZATIONS_PATH = /^\/apis\/kustomize\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/kustomizations$/;
const KUSTOMIZATION_PATH = /^\/apis\/kustomize\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/kustomizations\/([^/]+)$/;

/**
 * A strict stand-in for the Kubernetes API server's handling of one Flux Bucket and its Kustomizations (no API server
 * can run here), as the API server behaves for custom resources: GET; PATCH only as `application/merge-patch+json`
 * (RFC 7386: null deletes) and, from bucketops, only with its field manager; a `metadata.resourceVersion` in the patch
 * that is not the current one is a 409 Conflict; every write bumps resourceVersion, and a spec change bumps
 * metadata.generation; the status is written only through `updateStatus` (the status subresource: it never changes
 * the generation). Any other path or verb is a 404 and is recorded in `unexpected`. Every write is delivered to
 * `watchers`, as an informer delivers update events: FluxControllers (below) plays the controllers from them.
 */
export class StrictFluxApi {
    bucket: FluxObject;
    kustomizations: FluxObject[] = [];
    readonly requests: ApiRequest[] = [];
    readonly unexpected: string[] = [];
    /** The next PATCHes answered 409 whatever they say (a controller's status update got in between). */
    conflicts = 0;
    /** Called with each request before it is answered (a test may kill the client there). */
    onRequest: (request: ApiRequest) => void = () => undefined;
    /** Called after a PATCH by a client was applied, with the request and the object as patched. */
    onPatched: (request: ApiRequest, object: FluxObject) => void = () => undefined;
    readonly watchers: ((event: WatchEvent) => void)[] = [];
    private readonly server: Server;
    private version = 1;

    private constructor(bucket: FluxObject) {
        this.bucket = bucket;
        this.server = createServer((req, res) => void this.handle(req, res));
    }

    static async start(bucket: FluxObject): Promise<StrictFluxApi> {
        const api = new StrictFluxApi({ ...bucket, metadata: { generation: 1, resourceVersion: "1", annotations: {}, ...bucket.metadata } });
        await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
        return api;
    }

    /** A kubeconfig (as text, as the infra stack outputs it) for this server. */
    kubeconfig(): string {
        const { port } = this.server.address() as { port: number };
        return [
            "apiVersion: v1",
            "kind: Config",
            `clusters: [{name: strict, cluster: {server: 'http://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]`,
            "users: [{name: strict, user: {token: test-token}}]",
            "contexts: [{name: strict, context: {cluster: strict, user: strict}}]",
            "current-context: strict",
            "",
        ].join("\n");
    }

    /** The current Bucket or Kustomization `name`, as a GET would return it (a copy). */
    get(kind: WatchEvent["kind"], name?: string): FluxObject | undefined {
        const object = kind === "Bucket" ? this.bucket : this.kustomizations.find((k) => k.metadata.name === name);
        return object && structuredClone(object);
    }

    /** Bumps resourceVersion as any write does (a controller's status update, say). */
    touch(): void {
        this.bucket.metadata.resourceVersion = String(++this.version);
    }

    /** A merge patch by someone else than bucketops (kubectl, flux, Flux Operator's UI): the same rules, and watchers see it. */
    patch(kind: WatchEvent["kind"], name: string, patch: Record<string, unknown>): FluxObject {
        return this.apply(kind, name, patch)!;
    }

    /** The status subresource: replaces the status of the current object, bumps its resourceVersion, never its generation. */
    updateStatus(kind: WatchEvent["kind"], name: string, status: Record<string, unknown>): void {
        const object = kind === "Bucket" ? this.bucket : this.kustomizations.find((k) => k.metadata.name === name);
        if (!object) return;
        const old = structuredClone(object);
        object.status = structuredClone(status);
        object.metadata.resourceVersion = String(++this.version);
        this.emit({ kind, old, new: structuredClone(object) });
    }

    close(): void {
        this.server.close();
        this.server.closeAllConnections();
    }

    private emit(event: WatchEvent): void {
        for (const watcher of this.watchers) watcher(event);
    }

    /** Applies a merge patch to the current object (a spec change bumps its generation); undefined for no such object. */
    private apply(kind: WatchEvent["kind"], name: string, body: Record<string, any>): FluxObject | undefined {
        const list = kind === "Bucket" ? undefined : this.kustomizations;
        const object = kind === "Bucket" ? this.bucket : list!.find((k) => k.metadata.name === name);
        if (!object) return undefined;
        const old = structuredClone(object);
        const { resourceVersion: _, ...metadata } = body.metadata ?? {};
        const patched = mergePatch(object, { ...body, metadata, status: undefined }) as FluxObject;
        patched.status = object.status; // the main resource ignores status (it is a subresource)
        if (JSON.stringify(patched.spec) !== JSON.stringify(old.spec)) patched.metadata.generation = (old.metadata.generation ?? 1) + 1;
        patched.metadata.resourceVersion = String(++this.version);
        if (kind === "Bucket") this.bucket = patched;
        else list![list!.indexOf(object)] = patched;
        this.emit({ kind, old, new: structuredClone(patched) });
        return patched;
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const url = new URL(req.url!, "http://localhost");
        const text = await new Promise<string>((resolve) => {
            let data = "";
            req.on("data", (chunk) => (data += chunk));
            req.on("end", () => resolve(data));
        });
        const request: ApiRequest = {
            method: req.method!,
            path: url.pathname,
            query: url.searchParams,
            contentType: req.headers["content-type"] ?? "",
            authorization: req.headers.authorization,
            body: text ? JSON.parse(text) : undefined,
            suspended: this.bucket.spec.suspend === true,
        };
        this.requests.push(request);
        this.onRequest(request);
        const answer = (status: number, body: unknown) => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(JSON.stringify(body));
        };
        const failure = (code: number, reason: string, message: string) => answer(code, { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code });
        const patch = (kind: WatchEvent["kind"], current: FluxObject, name: string) => {
            if (request.contentType !== "application/merge-patch+json") return failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json`);
            if (url.searchParams.get("fieldManager") !== "bucketops") return failure(422, "Invalid", "bucketops must patch with its field manager");
            const expected = request.body?.metadata?.resourceVersion;
            if (this.conflicts > 0 || (expected !== undefined && expected !== current.metadata.resourceVersion)) {
                this.conflicts = Math.max(0, this.conflicts - 1);
                return failure(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
            }
            const patched = this.apply(kind, name, request.body ?? {})!;
            this.onPatched(request, patched);
            return answer(200, patched);
        };

        const bucket = BUCKET_PATH.exec(url.pathname);
        const own = bucket && bucket[1] === this.bucket.metadata.namespace && bucket[2] === this.bucket.metadata.name;
        if (bucket && !own) return failure(404, "NotFound", `buckets.source.toolkit.fluxcd.io "${bucket[2]}" not found`);
        if (own && req.method === "GET") return answer(200, this.bucket);
        if (own && req.method === "PATCH") return patch("Bucket", this.bucket, this.bucket.metadata.name);
        const list = KUSTOMIZATIONS_PATH.exec(url.pathname);
        if (list && req.method === "GET") {
            const items = this.kustomizations.filter((k) => k.metadata.namespace === list[1]);
            return answer(200, { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "KustomizationList", metadata: {}, items });
        }
        const one = KUSTOMIZATION_PATH.exec(url.pathname);
        const kustomization = one && this.kustomizations.find((k) => k.metadata.namespace === one[1] && k.metadata.name === one[2]);
        if (one && !kustomization) return failure(404, "NotFound", `kustomizations.kustomize.toolkit.fluxcd.io "${one[2]}" not found`);
        if (kustomization && req.method === "GET") return answer(200, kustomization);
        if (kustomization && req.method === "PATCH") return patch("Kustomization", kustomization, kustomization.metadata.name);
        this.unexpected.push(`${req.method} ${url.pathname}`);
        failure(404, "NotFound", "the server could not find the requested resource");
    }
}

/**
 * A stand-in cluster with the flux stack's objects (components/flux/bucketSync.ts): the Bucket `flux-system/flux-bucket`
 * reading `bucketName` (prefix `prefix`) from an S3-compatible endpoint, its spec.ignore ending with bucketops' names,
 * and one Kustomization applying `path` from it. Both have been reconciled before (a finalizer, Ready conditions).
 */
export async function fluxStackApi(bucketName: string, endpoint: string, options: { prefix?: string; path: string; kustomization: string; interval?: string }): Promise<StrictFluxApi> {
    const api = await StrictFluxApi.start({
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "Bucket",
        metadata: { name: "flux-bucket", namespace: "flux-system", finalizers: ["finalizers.fluxcd.io"] },
        spec: {
            provider: "generic",
            bucketName,
            endpoint: endpoint.replace("http://", ""),
            insecure: true,
            ...(options.prefix ? { prefix: options.prefix } : {}),
            interval: options.interval ?? "10m",
            timeout: "60s",
            ignore: BUCKETOPS_IGNORE,
        },
        status: { observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: "stored artifact", observedGeneration: 1 }] },
    });
    api.kustomizations = [
        {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: options.kustomization, namespace: "flux-system", generation: 1, resourceVersion: "1", finalizers: ["finalizers.fluxcd.io"] },
            spec: { sourceRef: { kind: "Bucket", name: "flux-bucket" }, path: options.path, interval: options.interval ?? "10m", prune: true },
            status: { observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "ReconciliationSucceeded", message: "ok", observedGeneration: 1 }] },
        },
    ];
    return api;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
    const result: Record<string, unknown> = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as object) } : {};
    for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete result[key];
        else result[key] = mergePatch(result[key], value);
    }
    return result;
}


/** A Go duration as Flux's CRDs take it (`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`), in ms. */
export function durationMs(text: string): number {
    let ms = 0;
    for (const [, n, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms"];
    return ms;
}

/** What kustomize-controller's apply of one artifact gives: undefined for success, or why it failed (Ready=False). */
export type ApplyResult = undefined | { reason: string; message: string };

export interface ControllerOptions {
    /** The S3 endpoint source-controller reads (moto; bucketops may go through a proxy in front of it). */
    s3Endpoint: string;
    /** Waited before each GET of an object: a slow fetch keeps a reconcile in flight while bucketops writes. */
    fetchDelayMs?: number;
    /** Called before each GET of an object by key; a message fails the fetch (a generic error, as S3 refusing it). */
    fetchError?: (key: string) => string | undefined;
    /** Awaited before each GET of an object by key, after the listing (another writer may act there). */
    beforeGet?: (key: string) => Promise<void>;
    /** A reason the Bucket cannot be reconciled until its spec changes (serror.Stalling, e.g. a disabled feature gate). */
    stall?: (bucket: FluxObject) => { reason: string; message: string } | undefined;
    /** kustomize-controller's apply of an artifact (files by full key); default: every apply succeeds. */
    apply?: (revision: string, files: Record<string, string>, kustomization: FluxObject) => ApplyResult;
    /** kustomize-controller's --requeue-dependency (default 30s there), and the retry after a failed reconcile. */
    retryMs?: number;
}

/** An artifact source-controller stored: the revision and the content of every file it fetched. */
export interface StoredArtifact {
    revision: string;
    files: Record<string, string>;
    /** The Bucket generation the reconcile read. */
    generation: number;
}

const RECONCILE_ANNOTATION = "reconcile.fluxcd.io/requestedAt";

/**
 * source-controller's and kustomize-controller's loops for the stand-in's Bucket and Kustomizations, running on their own
 * while bucketops talks to the API, as the real controllers do. Each rule cites the upstream line it plays, at the
 * versions the flux stack deploys: source-controller v1.8.5 (sc), kustomize-controller v1.8.5 (kc, pinned by flux2
 * v2.8.8), fluxcd/pkg runtime v0.100.4 (pkg, pinned by source-controller v1.8.5's go.mod), client-go v0.36.1 and
 * controller-runtime v0.24.1 (ditto).
 *
 * Not played: the artifact storage and its HTTP server, events, metrics, jitter on the intervals (pkg jitter: ±), the
 * finalizer's first reconcile (the objects start with it), dependencies, health checks (a test's `apply` stands for them).
 */
export class FluxControllers {
    /** Every artifact source-controller stored, in order. */
    readonly artifacts: StoredArtifact[] = [];
    /** Every reconcile, for the tests' messages: "Bucket gen 3: suspended", "Bucket gen 2: stored sha256:…". */
    readonly history: string[] = [];
    private readonly api: StrictFluxApi;
    private readonly options: ControllerOptions;
    private readonly s3: S3Client;
    private readonly queues = new Map<string, WorkItem>();
    private stopped = false;
    private gate?: { promise: Promise<void>; open: () => void };
    /** Resolved when source-controller has listed the bucket in a reconcile that will fetch (for tests to act then). */
    private listedWaiters: (() => void)[] = [];

    private constructor(api: StrictFluxApi, options: ControllerOptions) {
        this.api = api;
        this.options = options;
        this.s3 = new S3Client({
            endpoint: options.s3Endpoint,
            region: "us-east-1",
            forcePathStyle: true,
            credentials: { accessKeyId: "flux", secretAccessKey: "flux" },
            maxAttempts: 1,
        });
    }

    /** Starts both controllers: each enqueues its objects once at start (an informer's initial list), then reacts to watch events. */
    static start(api: StrictFluxApi, options: ControllerOptions): FluxControllers {
        const controllers = new FluxControllers(api, options);
        api.watchers.push((event) => controllers.onEvent(event));
        controllers.enqueue("Bucket", api.bucket.metadata.name);
        for (const k of api.kustomizations) controllers.enqueue("Kustomization", k.metadata.name);
        return controllers;
    }

    stop(): void {
        this.stopped = true;
        for (const item of this.queues.values()) clearTimeout(item.timer);
        this.gate?.open();
        this.s3.destroy();
    }

    /** Holds every GET of an object (after the listing) until `unpause`: a fetch in flight, for as long as a test needs. */
    pause(): void {
        if (this.gate) return;
        let open!: () => void;
        const promise = new Promise<void>((resolve) => (open = resolve));
        this.gate = { promise, open };
    }

    unpause(): void {
        this.gate?.open();
        this.gate = undefined;
    }

    /** Resolves at the next listing of a reconcile that goes on to fetch the objects. */
    listed(): Promise<void> {
        return new Promise((resolve) => this.listedWaiters.push(resolve));
    }

    /** Resolves once no reconcile runs or is queued to run now (timers for later requeues aside). */
    async idle(): Promise<void> {
        while ([...this.queues.values()].some((item) => item.processing || item.dirty)) await sleep(10);
    }

    private onEvent(event: WatchEvent): void {
        if (event.kind === "Bucket") {
            // sc bucket_controller.go:184: predicate.Or(GenerationChangedPredicate, ReconcileRequestedPredicate);
            // pkg predicates/reconcile_requested.go:40-52: the annotation's value changed.
            if (generationChanged(event) || requestChanged(event)) this.enqueue("Bucket", event.new.metadata.name);
            // kc kustomization_manager.go:170-174 watches the Bucket with SourceRevisionChangePredicate
            // (kc source_predicate.go:30-55): an artifact appeared or its revision changed.
            const before = event.old.status?.artifact?.revision;
            const after = event.new.status?.artifact?.revision;
            if (after !== undefined && after !== before) {
                for (const k of this.api.kustomizations) if (k.spec.sourceRef?.name === event.new.metadata.name) this.enqueue("Kustomization", k.metadata.name);
            }
        } else if (generationChanged(event) || requestChanged(event)) {
            // kc kustomization_manager.go:139-142: GenerationChangedPredicate or ReconcileRequestedPredicate.
            this.enqueue("Kustomization", event.new.metadata.name);
        }
    }

    /**
     * client-go util/workqueue (doc.go, "Stingy"): an item is never processed by two workers at once, and an item added
     * while it is processed is processed once more afterwards; added several times before that, only once.
     */
    private enqueue(kind: WatchEvent["kind"], name: string, afterMs = 0): void {
        if (this.stopped) return;
        const id = `${kind}/${name}`;
        const item = this.queues.get(id) ?? { processing: false, dirty: false };
        this.queues.set(id, item);
        if (afterMs > 0) {
            // controller-runtime: Result.RequeueAfter is AddAfter; a later immediate add supersedes it.
            clearTimeout(item.timer);
            item.timer = setTimeout(() => this.enqueue(kind, name), afterMs);
            return;
        }
        clearTimeout(item.timer);
        if (item.dirty) return;
        item.dirty = true;
        // A worker takes the item from the queue a moment later, never in the writer's own call.
        if (!item.processing) setImmediate(() => void this.process(kind, name, item));
    }

    private async process(kind: WatchEvent["kind"], name: string, item: WorkItem): Promise<void> {
        if (item.processing) return;
        while (item.dirty && !this.stopped) {
            item.dirty = false;
            item.processing = true;
            let requeueMs: number;
            try {
                requeueMs = kind === "Bucket" ? await this.reconcileBucket() : await this.reconcileKustomization(name);
            } catch (error) {
                this.history.push(`${kind} ${name}: reconcile threw ${(error as Error).message}`);
                requeueMs = this.options.retryMs ?? 1000;
            } finally {
                item.processing = false;
            }
            if (requeueMs > 0 && !item.dirty) this.enqueue(kind, name, requeueMs);
        }
    }

    /**
     * sc BucketReconciler.Reconcile (bucket_controller.go:191-262) with its deferred summary (:209-229). Returns the
     * requeue delay. Note what is read when: the object once, at the start (:196-199); suspend checked once, then
     * (:248-252); the listing, then each key by name (:682-780).
     */
    private async reconcileBucket(): Promise<number> {
        const obj = this.api.get("Bucket")!; // :196-199
        const generation: number = obj.metadata.generation;
        obj.status ??= {};
        const conditions = new Conditions(obj.status, generation);
        let error: string | undefined;
        let stored: StoredArtifact | undefined;
        if (obj.spec.suspend === true) {
            // :248-252: ResultEmpty, nil error.
            this.history.push(`Bucket gen ${generation}: suspended`);
        } else {
            // :270 rreconcile.ProgressiveStatus(false, ...): Reconciling=True, Ready=Unknown, both Progressing.
            conditions.set("Reconciling", "True", "Progressing", "reconciliation in progress");
            conditions.set("Ready", "Unknown", "Progressing", "reconciliation in progress");
            // :277-289: a new generation or a new request is persisted as Reconciling before anything is fetched.
            const requestedNow = obj.metadata.annotations?.[RECONCILE_ANNOTATION];
            if (generation !== obj.status.observedGeneration || (requestedNow !== undefined && requestedNow !== obj.status.lastHandledReconcileAt)) {
                this.api.updateStatus("Bucket", obj.metadata.name, obj.status);
            }
            const stalled = this.options.stall?.(obj);
            if (stalled) return this.stalled(obj, conditions, generation, stalled);
            try {
                stored = await this.fetch(obj, generation);
                if (stored) {
                    // sc bucket_controller.go:479-489 then reconcileArtifact: the artifact, and Ready=True once summarized.
                    obj.status.artifact = { revision: stored.revision, path: `bucket/${obj.metadata.namespace}/${obj.metadata.name}/${stored.revision}.tar.gz` };
                }
            } catch (e) {
                error = (e as Error).message;
            }
        }
        // sc summarize.RecordReconcileReq (internal/reconcile/summarize/processor.go:42-46): lastHandledReconcileAt from the
        // annotation as read at the start, whatever the outcome.
        const requested = obj.metadata.annotations?.[RECONCILE_ANNOTATION];
        if (requested !== undefined) obj.status.lastHandledReconcileAt = requested;
        if (error !== undefined) {
            // :473-475 serror.NewGeneric(err, BucketOperationFailedReason), FetchFailed=True; sc internal/reconcile/
            // reconcile.go:130-134 Reconciling becomes ProgressingWithRetry; :155-165 a non-ignored Generic error does NOT
            // record observedGeneration; bucketReadyCondition (bucket_controller.go:85-111) summarizes Ready from FetchFailed,
            // a negative-polarity condition: Ready=False with its reason and message.
            conditions.set("FetchFailed", "True", "BucketOperationFailed", error);
            conditions.set("Reconciling", "True", "ProgressingWithRetry", "reconciliation in progress");
            conditions.set("Ready", "False", "BucketOperationFailed", error);
            this.history.push(`Bucket gen ${generation}: failed: ${error}`);
        } else {
            if (obj.spec.suspend !== true) {
                // reconcile.go:122-125 Reconciling removed on success; :492 FetchFailed removed.
                conditions.delete("Reconciling");
                conditions.delete("FetchFailed");
                const revision = obj.status.artifact?.revision;
                conditions.set("Ready", "True", "Succeeded", `stored artifact for revision '${revision}'`);
                this.history.push(`Bucket gen ${generation}: stored ${revision}`);
            }
            // reconcile.go:166-173 (nil error, not ResultRequeue) with :228-232 (only with some condition): observedGeneration.
            if (conditions.any()) obj.status.observedGeneration = generation;
        }
        this.api.updateStatus("Bucket", obj.metadata.name, obj.status);
        if (stored) this.artifacts.push(stored);
        // reconcile.go:74-99 AlwaysRequeueResultBuilder: success (and suspended: ResultEmpty → no requeue) at the interval;
        // an error goes back to the rate-limited queue (controller-runtime), here after retryMs.
        if (obj.spec.suspend === true) return 0;
        return error !== undefined ? (this.options.retryMs ?? 1000) : durationMs(obj.spec.interval ?? "10m");
    }

    /**
     * A stalling error (sc bucket_controller.go:438-446, serror.NewStalling with FetchFailed=True): reconcile.go:138-146
     * marks Stalled, records observedGeneration and returns no error, so nothing requeues it until the spec changes;
     * lastHandledReconcileAt as always (processor.go:42-46); Ready summarized from FetchFailed (:85-111).
     */
    private stalled(obj: FluxObject, conditions: Conditions, generation: number, why: { reason: string; message: string }): number {
        conditions.set("FetchFailed", "True", why.reason, why.message);
        conditions.set("Stalled", "True", why.reason, why.message);
        conditions.set("Reconciling", "True", "ProgressingWithRetry", "reconciliation in progress");
        conditions.set("Ready", "False", why.reason, why.message);
        const requested = obj.metadata.annotations?.[RECONCILE_ANNOTATION];
        if (requested !== undefined) obj.status.lastHandledReconcileAt = requested;
        obj.status.observedGeneration = generation;
        this.api.updateStatus("Bucket", obj.metadata.name, obj.status);
        this.history.push(`Bucket gen ${generation}: stalled: ${why.message}`);
        return 0;
    }

    /**
     * sc fetchEtagIndex (bucket_controller.go:682-730) then, when the artifact is missing or the revision changed
     * (:966-990), fetchIndexFiles (:736-780). Returns the artifact, or undefined when nothing changed.
     */
    private async fetch(obj: FluxObject, generation: number): Promise<StoredArtifact | undefined> {
        const bucket: string = obj.spec.bucketName;
        // :697-704: the root .sourceignore first (a missing one is fine), then spec.ignore (:709-712), NewMatcher (:712).
        const rootIgnore = await this.getObject(bucket, ".sourceignore").catch((e: Error) => (e.name === "NoSuchKey" ? undefined : Promise.reject(e)));
        const ignored = ignoreMatcher([...readPatterns(rootIgnore?.body ?? ""), ...readPatterns(obj.spec.ignore ?? "")]);
        // :714-727: VisitObjects with spec.prefix; skip keys ending in "/", the key .sourceignore, and ignored keys.
        const index = new Map<string, string>();
        try {
            let token: string | undefined;
            do {
                const page = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: obj.spec.prefix ?? "", ContinuationToken: token }));
                for (const { Key, ETag } of page.Contents ?? []) {
                    if (Key!.endsWith("/") || Key === ".sourceignore" || ignored(Key!)) continue;
                    index.set(Key!, ETag!.replaceAll('"', "")); // minio-go trimEtag
                }
                token = page.NextContinuationToken;
            } while (token);
        } catch (e) {
            throw new Error(`indexation of objects from bucket '${bucket}' failed: ${(e as Error).message}`);
        }
        const current = obj.status?.artifact?.revision;
        if (current !== undefined && current === digest(index)) return undefined; // :970-973: unchanged
        // :746-775: GET each indexed key by name (its latest version, whatever it is now); a key gone is dropped from the
        // index, a changed etag replaces the listed one.
        const files: Record<string, string> = {};
        for (const waiter of this.listedWaiters.splice(0)) waiter();
        for (const key of [...index.keys()]) {
            await sleep(this.options.fetchDelayMs ?? 0);
            await this.gate?.promise;
            await this.options.beforeGet?.(key);
            if (this.stopped) throw new Error("source-controller stopped");
            const refused = this.options.fetchError?.(key);
            if (refused) throw new Error(`fetch from bucket '${bucket}' failed: failed to get '${key}' object: ${refused}`);
            try {
                const { body, etag } = (await this.getObject(bucket, key))!;
                files[key] = body;
                if (etag !== index.get(key)) index.set(key, etag);
            } catch (e) {
                if ((e as Error).name !== "NoSuchKey") throw new Error(`fetch from bucket '${bucket}' failed: failed to get '${key}' object: ${(e as Error).message}`);
                index.delete(key);
            }
        }
        return { revision: digest(index), files, generation };
    }

    private async getObject(bucket: string, key: string): Promise<{ body: string; etag: string } | undefined> {
        const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: await object.Body!.transformToString(), etag: object.ETag!.replaceAll('"', "") };
    }

    /**
     * kc KustomizationReconciler.Reconcile (kustomization_controller.go:127-308) with finalizeStatus (:1224-1245).
     * Returns the requeue delay.
     */
    private async reconcileKustomization(name: string): Promise<number> {
        const obj = this.api.get("Kustomization", name);
        if (!obj) return 0;
        const generation: number = obj.metadata.generation;
        obj.status ??= {};
        const conditions = new Conditions(obj.status, generation);
        const retry = this.options.retryMs ?? 1000;
        let requeue: number;
        if (obj.spec.suspend === true) {
            requeue = 0; // :182-185
        } else {
            const source = this.api.get("Bucket");
            const revision: string | undefined = source?.status?.artifact?.revision;
            if (!revision) {
                // :231-238: Source artifact not found, requeue after the dependency interval.
                conditions.set("Ready", "False", "ArtifactFailed", "Source artifact not found, retrying in 30s");
                requeue = retry;
            } else {
                // reconcile (:310-540): lastAttemptedRevision first (:382), Reconciling=Progressing (:384).
                obj.status.lastAttemptedRevision = revision;
                conditions.set("Reconciling", "True", "Progressing", `Building manifests for revision ${revision} with a timeout of 5m0s`);
                const files = this.artifacts.findLast((a) => a.revision === revision)?.files ?? {};
                const failed = (this.options.apply ?? (() => undefined))(revision, files, obj);
                if (failed) {
                    // A failed apply or health check: Ready=False with its reason (:419-475), retried at retryInterval (:295-303).
                    conditions.set("Ready", "False", failed.reason, failed.message);
                    requeue = retry;
                    this.history.push(`Kustomization ${name} gen ${generation}: failed ${revision}: ${failed.message}`);
                } else {
                    obj.status.lastAppliedRevision = revision; // :528
                    conditions.set("Ready", "True", "ReconciliationSucceeded", `Applied revision: ${revision}`);
                    requeue = durationMs(obj.spec.interval ?? "10m");
                    this.history.push(`Kustomization ${name} gen ${generation}: applied ${revision}`);
                }
            }
        }
        // finalizeStatus (:1224-1245): lastHandledReconcileAt; observedGeneration and no Reconciling only when Ready=True;
        // Reconciling becomes ProgressingWithRetry when Ready=False.
        const requested = obj.metadata.annotations?.[RECONCILE_ANNOTATION];
        if (requested !== undefined) obj.status.lastHandledReconcileAt = requested;
        if (conditions.is("Ready", "True")) {
            conditions.delete("Reconciling");
            obj.status.observedGeneration = generation;
        } else if (conditions.is("Ready", "False") && conditions.has("Reconciling")) {
            conditions.set("Reconciling", "True", "ProgressingWithRetry", conditions.message("Reconciling"));
        }
        this.api.updateStatus("Kustomization", name, obj.status);
        return requeue;
    }
}

interface WorkItem {
    processing: boolean;
    /** Queued to run (again). */
    dirty: boolean;
    timer?: NodeJS.Timeout;
}

/** pkg runtime/conditions: every condition set is stamped with the object's generation (setter.go:53). */
class Conditions {
    private readonly status: Record<string, any>;
    private readonly generation: number;

    constructor(status: Record<string, any>, generation: number) {
        this.status = status;
        this.generation = generation;
        status.conditions ??= [];
    }

    set(type: string, status: string, reason: string, message: string): void {
        this.delete(type);
        this.status.conditions.push({ type, status, reason, message, observedGeneration: this.generation, lastTransitionTime: new Date().toISOString() });
    }

    delete(type: string): void {
        this.status.conditions = this.status.conditions.filter((c: { type: string }) => c.type !== type);
    }

    has(type: string): boolean {
        return this.status.conditions.some((c: { type: string }) => c.type === type);
    }

    is(type: string, status: string): boolean {
        return this.status.conditions.some((c: { type: string; status: string }) => c.type === type && c.status === status);
    }

    message(type: string): string {
        return this.status.conditions.find((c: { type: string }) => c.type === type)?.message ?? "";
    }

    any(): boolean {
        return this.status.conditions.length > 0;
    }
}

const generationChanged = (event: WatchEvent) => event.old.metadata.generation !== event.new.metadata.generation;

const requestChanged = (event: WatchEvent) => {
    const value = event.new.metadata.annotations?.[RECONCILE_ANNOTATION];
    return value !== undefined && value !== event.old.metadata.annotations?.[RECONCILE_ANNOTATION];
};

/** sc internal/index/digest.go: keys sorted bytewise, one "key etag\n" line each, sha256. */
function digest(index: Map<string, string>): string {
    const keys = [...index.keys()].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    return `sha256:${createHash("sha256").update(keys.map((key) => `${key} ${index.get(key)}\n`).join("")).digest("hex")}`;
}
