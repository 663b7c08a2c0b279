import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

export interface Patch {
    path: string;
    contentType: string;
    body: { metadata?: { annotations?: Record<string, string> } };
}

/**
 * A stand-in for the few Kubernetes API calls `bucketops status` makes (no API server can run here):
 * GET one Bucket, PATCH it, LIST Kustomizations. Objects are plain JSON the test edits.
 */
export class FakeKubeApi {
    buckets = new Map<string, Record<string, any>>();
    kustomizations: Record<string, any>[] = [];
    patches: Patch[] = [];
    /** Called after each PATCH of a Bucket, with the object as patched: a test plays Flux's part here. */
    onPatch: (bucket: Record<string, any>) => void = () => undefined;
    private readonly server: Server;

    private constructor() {
        this.server = createServer(async (req, res) => {
            const answer = (status: number, body: unknown) => {
                res.writeHead(status, { "content-type": "application/json" });
                res.end(JSON.stringify(body));
            };
            const url = new URL(req.url!, "http://localhost");
            const bucket = /^\/apis\/source\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/buckets\/([^/]+)$/.exec(url.pathname);
            if (bucket) {
                const object = this.buckets.get(`${bucket[1]}/${bucket[2]}`);
                if (!object) return answer(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
                if (req.method === "PATCH") {
                    const body = JSON.parse(await readBody(req));
                    this.patches.push({ path: url.pathname, contentType: req.headers["content-type"] ?? "", body });
                    object.metadata.annotations = { ...object.metadata.annotations, ...body.metadata?.annotations };
                    this.onPatch(object);
                }
                return answer(200, object);
            }
            const list = /^\/apis\/kustomize\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/kustomizations$/.exec(url.pathname);
            if (list && req.method === "GET") {
                const items = this.kustomizations.filter((k) => k.metadata.namespace === list[1]);
                return answer(200, { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "KustomizationList", items });
            }
            answer(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
        });
    }

    static async start(): Promise<FakeKubeApi> {
        const api = new FakeKubeApi();
        await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
        return api;
    }

    /** A kubeconfig file pointing at this server. */
    kubeconfig(): string {
        const { port } = this.server.address() as { port: number };
        const file = path.join(tmpdir(), `bucketops-kubeconfig-${port}.yaml`);
        writeFileSync(
            file,
            [
                "apiVersion: v1",
                "kind: Config",
                "clusters: [{name: fake, cluster: {server: 'http://127.0.0.1:" + port + "', insecure-skip-tls-verify: true}}]",
                "users: [{name: fake, user: {token: test-token}}]",
                "contexts: [{name: fake, context: {cluster: fake, user: fake}}]",
                "current-context: fake",
                "",
            ].join("\n"),
        );
        return file;
    }

    close(): void {
        this.server.close();
        this.server.closeAllConnections();
    }
}

async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}
