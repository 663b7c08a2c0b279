import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";

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

const BUCKET_PATH = /^\/apis\/source\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/buckets\/([^/]+)$/;
const KUSTOMIZATIONS_PATH = /^\/apis\/kustomize\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/kustomizations$/;

/**
 * A strict stand-in for the Kubernetes API server's handling of one Flux Bucket and its Kustomizations (no API server
 * can run here), as the API server behaves for custom resources: GET; PATCH only as `application/merge-patch+json`
 * (RFC 7386: null deletes) and, from bucketops, only with its field manager; a `metadata.resourceVersion` in the patch
 * that is not the current one is a 409 Conflict; every write bumps resourceVersion, and a spec change bumps
 * metadata.generation. Any other path or verb is a 404 and is recorded in `unexpected`. `flux` plays the controllers:
 * it runs before every answer, with the objects, and scripts their status.
 */
export class StrictFluxApi {
    bucket: FluxObject;
    kustomizations: FluxObject[] = [];
    readonly requests: ApiRequest[] = [];
    readonly unexpected: string[] = [];
    /** The next PATCHes answered 409 whatever they say (a controller's status update got in between). */
    conflicts = 0;
    flux: (api: StrictFluxApi) => void = () => undefined;
    /** Called with each request before it is answered (a test may kill the client there). */
    onRequest: (request: ApiRequest) => void = () => undefined;
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

    /** Bumps resourceVersion as any write does (a controller's status update, say). */
    touch(): void {
        this.bucket.metadata.resourceVersion = String(++this.version);
    }

    close(): void {
        this.server.close();
        this.server.closeAllConnections();
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
        this.flux(this);

        const bucket = BUCKET_PATH.exec(url.pathname);
        const own = bucket && bucket[1] === this.bucket.metadata.namespace && bucket[2] === this.bucket.metadata.name;
        if (bucket && !own) return failure(404, "NotFound", `buckets.source.toolkit.fluxcd.io "${bucket[2]}" not found`);
        if (own && req.method === "GET") return answer(200, this.bucket);
        if (own && req.method === "PATCH") {
            if (request.contentType !== "application/merge-patch+json") return failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json`);
            if (url.searchParams.get("fieldManager") !== "bucketops") return failure(422, "Invalid", "bucketops must patch with its field manager");
            const expected = request.body?.metadata?.resourceVersion;
            if (this.conflicts > 0 || (expected !== undefined && expected !== this.bucket.metadata.resourceVersion)) {
                this.conflicts = Math.max(0, this.conflicts - 1);
                return failure(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
            }
            const before = JSON.stringify(this.bucket.spec);
            const { resourceVersion: _, ...metadata } = request.body?.metadata ?? {};
            this.bucket = mergePatch(this.bucket, { ...request.body, metadata }) as FluxObject;
            if (JSON.stringify(this.bucket.spec) !== before) this.bucket.metadata.generation++;
            this.touch();
            return answer(200, this.bucket);
        }
        const list = KUSTOMIZATIONS_PATH.exec(url.pathname);
        if (list && req.method === "GET") {
            const items = this.kustomizations.filter((k) => k.metadata.namespace === list[1]);
            return answer(200, { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "KustomizationList", metadata: {}, items });
        }
        this.unexpected.push(`${req.method} ${url.pathname}`);
        failure(404, "NotFound", "the server could not find the requested resource");
    }
}

/**
 * A stand-in cluster with the flux stack's objects: the Bucket `flux-system/flux-bucket` reading `bucketName` (prefix
 * `prefix`) from an S3-compatible endpoint, and one Kustomization applying `path` from it.
 */
export async function fluxStackApi(bucketName: string, endpoint: string, options: { prefix?: string; path: string; kustomization: string }): Promise<StrictFluxApi> {
    const api = await StrictFluxApi.start({
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "Bucket",
        metadata: { name: "flux-bucket", namespace: "flux-system" },
        spec: { provider: "generic", bucketName, endpoint: endpoint.replace("http://", ""), insecure: true, ...(options.prefix ? { prefix: options.prefix } : {}), interval: "10m" },
        status: {},
    });
    api.kustomizations = [
        {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: options.kustomization, namespace: "flux-system", generation: 1 },
            spec: { sourceRef: { kind: "Bucket", name: "flux-bucket" }, path: options.path, interval: "10m", prune: true },
            status: { conditions: [{ type: "Ready", status: "True", reason: "ReconciliationSucceeded", message: "ok" }] },
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

/**
 * Flux's controllers as far as bucketops sees them: once the Bucket is not suspended and a reconcile is requested,
 * source-controller fetches (`revision()` gives what it finds) and kustomize-controller applies it, or fails with
 * `failure` for one revision (e.g. a health check). Each step happens on a later request than the one before, as time passes.
 */
export function scriptedFlux(revision: () => string, failure?: { revision: string; reason: string; message: string }): (api: StrictFluxApi) => void {
    return (api) => {
        const { bucket } = api;
        const requested = bucket.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"];
        bucket.status ??= {};
        if (bucket.spec.suspend !== true && requested && bucket.status.lastHandledReconcileAt !== requested) {
            bucket.status = {
                ...bucket.status,
                observedGeneration: bucket.metadata.generation,
                lastHandledReconcileAt: requested,
                artifact: { revision: revision() },
                conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: `stored artifact for revision '${revision()}'` }],
            };
            api.touch();
            return;
        }
        const fetched = bucket.status.artifact?.revision;
        for (const k of api.kustomizations) {
            if (!fetched || k.status?.lastAttemptedRevision === fetched) continue;
            k.status =
                failure && failure.revision === fetched
                ? { ...k.status, observedGeneration: k.metadata.generation, lastAttemptedRevision: fetched, conditions: [{ type: "Ready", status: "False", reason: failure.reason, message: failure.message }] }
                : {
                      ...k.status,
                      observedGeneration: k.metadata.generation,
                      lastAttemptedRevision: fetched,
                      lastAppliedRevision: fetched,
                      conditions: [{ type: "Ready", status: "True", reason: "ReconciliationSucceeded", message: `Applied revision: ${fetched}` }],
                  };
        }
    };
}
