import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import { bucketops } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";

/**
 * An endpoint that accepts the TCP connection and never answers: what a hung proxy, a stopped server behind a
 * load balancer or a firewall that swallows packets after the handshake look like. Every command gives up after
 * its --timeout (each request tried 3 times) with one message naming the endpoint, instead of hanging.
 */
describe("an endpoint that accepts connections but never answers", () => {
    let server: Server;
    let endpoint: string;
    const sockets = new Set<Socket>();
    before(async () => {
        // Any credentials: the endpoint never gets to check them.
        process.env.AWS_ACCESS_KEY_ID ??= "testing";
        process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
        server = createServer((socket) => {
            sockets.add(socket);
            socket.on("close", () => sockets.delete(socket));
            socket.on("data", () => undefined); // read, never answer
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => {
        for (const socket of sockets) socket.destroy();
        server.close();
    });

    /** Runs bucketops and checks it gave up: 3 attempts of `timeout` s plus the clients' backoff (GCS: 1 s, then 2 s, with jitter). */
    async function givesUp(timeout: number, ...args: string[]) {
        const start = performance.now();
        const run = await bucketops(...args, "--timeout", String(timeout));
        const seconds = (performance.now() - start) / 1000;
        assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s`);
        return run;
    }

    /** The final message names every attempt and the time they really took (3 × 0.5 s of silence plus the SDK's backoff). */
    const gaveUp = (where: string, err: string) => {
        const total = new RegExp(
            `^bucketops: ${where.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} did not answer: 3 attempt\\(s\\) of up to 0\\.5 s each \\(10 s to connect\\) got no answer, (\\d+) s in all: check the endpoint and the network, or raise --timeout$`,
            "m",
        ).exec(err);
        assert.ok(total, err);
        assert.ok(Number(total[1]) >= 1 && Number(total[1]) < 30, err);
    };

    it("revision, push, history and rollback on S3: a line per retry, then the true total", async () => {
        for (const args of [
            ["revision", "s3://hung/app"],
            ["push", writeTree(manifestTree(["a"], "v1")), "s3://hung/app"],
            ["history", "s3://hung/app"],
            ["rollback", "s3://hung/app", "--to", "2026-01-01T00:00:00Z"],
        ]) {
            const run = await givesUp(0.5, ...args, "--endpoint", endpoint);
            assert.equal(run.code, 1, args[0]);
            const lines = run.err.split("\n");
            // Each request that got no answer, and which attempt it was (some commands send two at once).
            const retries = lines.slice(0, -1).map((line) => new RegExp(`^s3://hung at ${endpoint}: (\\w+) did not answer within 0\\.5 s \\(attempt ([12]) of 3\\); trying again$`).exec(line));
            assert.ok(retries.length >= 2 && retries.every(Boolean), run.err);
            for (const operation of new Set(retries.map((r) => r![1]))) {
                assert.deepEqual(retries.filter((r) => r![1] === operation).map((r) => r![2]), ["1", "2"], `${args[0]}: ${operation}\n${run.err}`);
            }
            gaveUp(`s3://hung at ${endpoint}`, lines.at(-1)!);
        }
    });

    it("revision on GCS", async () => {
        const run = await givesUp(0.5, "revision", "gs://hung/app", "--endpoint", endpoint);
        assert.equal(run.code, 1);
        gaveUp(`gs://hung at ${endpoint}`, run.err);
    });

    it("status, for the Kubernetes API server", async () => {
        const kubeconfig = path.join(tmpdir(), `bucketops-hung-kubeconfig-${process.pid}.yaml`);
        writeFileSync(
            kubeconfig,
            `apiVersion: v1\nkind: Config\nclusters: [{name: hung, cluster: {server: '${endpoint}', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\n` +
                "contexts: [{name: hung, context: {cluster: hung, user: u}}]\ncurrent-context: hung\n",
        );
        const run = await givesUp(0.5, "status", "--kubeconfig", kubeconfig);
        assert.equal(run.code, 1);
        assert.equal(
            run.err,
            `bucketops: the Kubernetes API server at ${endpoint} did not answer within 0.5 s: check the kubeconfig's server address and the network, or raise --timeout`,
        );
    });

    it("rejects a --timeout that is not a positive number of seconds", async () => {
        const run = await bucketops("revision", "s3://hung/app", "--endpoint", endpoint, "--timeout", "0");
        assert.equal(run.code, 2);
        assert.match(run.err, /option '--timeout <seconds>' argument '0' is invalid\. expected seconds, more than 0 and at most 3600/);
    });
});

describe("status with a missing or unusable kubeconfig", () => {
    it("says there is no kubeconfig, instead of failing at a default localhost:8080", async () => {
        const saved = { home: process.env.HOME, kubeconfig: process.env.KUBECONFIG, inCluster: process.env.KUBERNETES_SERVICE_HOST };
        process.env.HOME = mkdtempSync(path.join(tmpdir(), "bucketops-home-"));
        delete process.env.KUBECONFIG;
        delete process.env.KUBERNETES_SERVICE_HOST;
        try {
            const run = await bucketops("status");
            assert.equal(run.code, 2);
            assert.equal(
                run.err,
                "bucketops: no kubeconfig: pass --kubeconfig, set KUBECONFIG, put one at ~/.kube/config, or use --from-stack-outputs with the infra stack's outputs",
            );
        } finally {
            for (const [name, value] of [["HOME", saved.home], ["KUBECONFIG", saved.kubeconfig], ["KUBERNETES_SERVICE_HOST", saved.inCluster]] as const) {
                if (value === undefined) delete process.env[name];
                else process.env[name] = value;
            }
        }
    });

    it("explains a plain-http server without insecure-skip-tls-verify", async () => {
        const kubeconfig = path.join(tmpdir(), `bucketops-http-kubeconfig-${process.pid}.yaml`);
        writeFileSync(
            kubeconfig,
            "apiVersion: v1\nkind: Config\nclusters: [{name: local, cluster: {server: 'http://127.0.0.1:8080'}}]\nusers: [{name: u, user: {token: t}}]\n" +
                "contexts: [{name: local, context: {cluster: local, user: u}}]\ncurrent-context: local\n",
        );
        const run = await bucketops("status", "--kubeconfig", kubeconfig);
        assert.equal(run.code, 2);
        assert.equal(
            run.err,
            "bucketops: the kubeconfig's cluster 'local' has a plain-http server (http://127.0.0.1:8080); the Kubernetes client uses http only " +
                "when the cluster entry also sets insecure-skip-tls-verify: true (or use its https address)",
        );
    });
});

describe("an endpoint that answers, but not as S3", () => {
    let server: Server;
    let endpoint: string;
    before(async () => {
        process.env.AWS_ACCESS_KEY_ID ??= "testing";
        process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
        // A web server: its console page for one path, a 404 page for the rest.
        server = createHttpServer((req, res) => {
            const found = req.url?.startsWith("/console") ?? false;
            res.writeHead(found ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
            res.end(found ? "<html><body>Welcome</body></html>" : "<html><body>Not Found</body></html>");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => server.close());

    it("says so, whether it answers 404 or a 200 page that the SDK would read as an empty bucket", async () => {
        for (const [bucket, status] of [["missing", 404], ["console", 200]] as const) {
            const run = await bucketops("revision", `s3://${bucket}/app`, "--endpoint", endpoint);
            assert.equal(run.code, 1);
            assert.equal(
                run.err,
                `bucketops: s3://${bucket} at ${endpoint} answered ListObjectsV2 with HTTP ${status} text/html, not with S3's XML: ` +
                    "is that an S3 API endpoint? (for MinIO and other S3-compatible servers, the API address, not the console's)",
            );
        }
    });
});

describe("an http server addressed as https, and an unreachable Kubernetes API server", () => {
    let server: ReturnType<typeof createHttpServer>;
    let port: number;
    before(async () => {
        process.env.AWS_ACCESS_KEY_ID ??= "testing";
        process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
        server = createHttpServer((_, res) => res.end("{}"));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as { port: number }).port;
    });
    after(() => server.close());

    const kubeconfigFor = (url: string) => {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "bucketops-kube-")), "kubeconfig");
        writeFileSync(
            file,
            `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: '${url}', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\n` +
                "contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n",
        );
        return file;
    };

    it("says to use http:// or --insecure instead of OpenSSL's \"wrong version number\" (S3 and GCS endpoints)", async () => {
        for (const [url, endpoint, shown] of [
            ["s3://bucket1/app", `https://127.0.0.1:${port}`, `s3://bucket1 at https://127.0.0.1:${port}`],
            ["s3://bucket1/app", `127.0.0.1:${port}`, `s3://bucket1 at https://127.0.0.1:${port}`], // a bare host means https, as Flux's spec.endpoint
            ["gs://bucket1/app", `https://127.0.0.1:${port}`, `gs://bucket1 at https://127.0.0.1:${port}`],
        ]) {
            const run = await bucketops("revision", url, "--endpoint", endpoint, "--timeout", "5");
            assert.equal(run.code, 1, run.err);
            assert.equal(
                run.err,
                `bucketops: ${shown} answers plain http, not https (TLS: "wrong version number"): use an http:// endpoint, or --insecure with a bare host (as Flux's spec.insecure)`,
            );
        }
    });

    it("names the Kubernetes API server's address and why it cannot be reached", async () => {
        const closed = await new Promise<number>((resolve) => {
            const probe = createServer().listen(0, "127.0.0.1", () => {
                const { port: free } = probe.address() as { port: number };
                probe.close(() => resolve(free));
            });
        });
        const refused = await bucketops("status", "--kubeconfig", kubeconfigFor(`https://127.0.0.1:${closed}`), "--timeout", "5");
        assert.equal(refused.code, 1);
        assert.equal(refused.err, `bucketops: cannot reach the Kubernetes API server at https://127.0.0.1:${closed} (ECONNREFUSED); check the kubeconfig's server address and the network.`);

        const plain = await bucketops("status", "--kubeconfig", kubeconfigFor(`https://127.0.0.1:${port}`), "--timeout", "5");
        assert.equal(plain.code, 1);
        assert.equal(
            plain.err,
            `bucketops: the Kubernetes API server at https://127.0.0.1:${port} answers plain http, not https (TLS: "wrong version number"): ` +
                "check the kubeconfig's server address (its port; a plain-http server needs an http:// address with insecure-skip-tls-verify: true)",
        );
    });
});
