import { spawn, type ChildProcess } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";

/** One line of moto's access log: `127.0.0.1 - - [date] "PUT /bucket/key HTTP/1.1" 200 -`. */
export interface LoggedRequest {
    method: string;
    path: string;
    status: number;
}

const ACCESS_LOG_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/;
const SENTINEL_PATH = "/bench-sentinel-";

/**
 * A moto_server on a loopback port of its choosing whose access log (werkzeug, one line per request it
 * answered, on stderr) is parsed as it arrives: the requests a command sent are the lines logged
 * while it ran. Nothing sits between the tools and the server, so timings are not skewed.
 */
export class MotoServer {
    readonly endpoint: string;
    readonly s3: S3Client;
    private readonly log: LoggedRequest[] = [];
    private readonly waiters = new Map<string, () => void>();
    private sentinels = 0;
    private buckets = 0;
    private readonly child: ChildProcess;

    private constructor(port: number, child: ChildProcess, stderrLines: Interface) {
        this.child = child;
        this.endpoint = `http://127.0.0.1:${port}`;
        this.s3 = new S3Client({
            endpoint: this.endpoint,
            forcePathStyle: true,
            region: "us-east-1",
            credentials: { accessKeyId: "test", secretAccessKey: "test" },
        });
        stderrLines.on("line", (line) => this.onLogLine(line));
    }

    static async start(): Promise<MotoServer> {
        const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", "0"], { stdio: ["ignore", "ignore", "pipe"] });
        const stderrLines = createInterface({ input: child.stderr! });
        const port = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("moto_server did not start listening within 30 s")), 30_000);
            child.once("error", reject);
            child.once("exit", (code) => reject(new Error(`moto_server exited with code ${code}`)));
            stderrLines.on("line", function onStartupLine(line) {
                const listening = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
                if (!listening) return;
                clearTimeout(timer);
                stderrLines.off("line", onStartupLine);
                resolve(Number(listening[1]));
            });
        });
        const server = new MotoServer(port, child, stderrLines);
        await server.sync();
        return server;
    }

    private onLogLine(line: string): void {
        const match = ACCESS_LOG_LINE.exec(line);
        if (!match) return;
        const [, method, path, status] = match;
        if (path.startsWith(SENTINEL_PATH)) {
            this.waiters.get(path)?.();
            this.waiters.delete(path);
            return;
        }
        this.log.push({ method, path, status: Number(status) });
    }

    /**
     * Returns once every request answered so far is in the parsed log: the server logs a request when
     * it answers it, so a fresh sentinel request showing up means everything before it is there too.
     */
    private async sync(): Promise<void> {
        const path = `${SENTINEL_PATH}${++this.sentinels}`;
        const logged = new Promise<void>((resolve) => this.waiters.set(path, resolve));
        await fetch(this.endpoint + path).then((response) => response.arrayBuffer());
        const timeout = new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`moto_server did not log ${path} within 10 s`)), 10_000).unref(),
        );
        await Promise.race([logged, timeout]);
    }

    /** Runs `action` and returns what it returned with the requests the server answered meanwhile. */
    async recordRequests<T>(action: () => Promise<T>): Promise<{ result: T; requests: LoggedRequest[] }> {
        await this.sync();
        const start = this.log.length;
        const result = await action();
        await this.sync();
        return { result, requests: this.log.slice(start) };
    }

    /** A new, empty, versioned bucket (as BucketOps provisions it) with a name not used before. */
    async freshBucket(label: string): Promise<string> {
        const bucket = `bench-${label}-${++this.buckets}`;
        await this.s3.send(new CreateBucketCommand({ Bucket: bucket }));
        await this.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
        return bucket;
    }

    /** Writes `count` small objects under `prefix`, 16 at a time (setup only, not measured). */
    async fill(bucket: string, prefix: string, count: number, body: (i: number) => string): Promise<void> {
        const limit = pLimit(16);
        await Promise.all(
            Array.from({ length: count }, (_, i) =>
                limit(() => this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${objectName(i)}`, Body: body(i) }))),
            ),
        );
    }

    stop(): void {
        this.s3.destroy();
        this.child.kill("SIGKILL");
    }
}

/** Keys spread over folders of 100, like a tree of environments and apps. */
function objectName(i: number): string {
    return `app-${String(Math.floor(i / 100)).padStart(3, "0")}/cm-${String(i % 100).padStart(2, "0")}.yaml`;
}

/** S3 operation names for the access-log lines of path-style requests (`/bucket` or `/bucket/key`). */
export function operationOf({ method, path }: LoggedRequest): string {
    const [resource, query = ""] = path.split("?", 2);
    const hasKey = resource.split("/").filter(Boolean).length > 1;
    if (method === "POST" && /(^|&)delete(=|&|$)/.test(query)) return "DeleteObjects";
    if (hasKey) return `${method} object`;
    if (method === "GET" && (query === "" || /(^|&)(list-type|prefix|delimiter|marker)=/.test(query))) return "LIST page";
    return `${method} bucket${query ? `?${query.split("&")[0].split("=")[0]}` : ""}`;
}
