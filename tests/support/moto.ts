import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface, type Interface } from "node:readline";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import {
    CompleteMultipartUploadCommand,
    CreateBucketCommand,
    CreateMultipartUploadCommand,
    GetObjectCommand,
    paginateListObjectsV2,
    ListObjectVersionsCommand,
    PutBucketVersioningCommand,
    PutObjectCommand,
    S3Client,
    UploadPartCommand,
} from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { mapBounded } from "../../src/fs/bounded.ts";
import { isLeaseKey, RELEASE_NAME } from "../../src/bucket/keys.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
// moto accepts any credentials; the CLI under test reads these through the SDK's default chain.
process.env.AWS_ACCESS_KEY_ID = "testing";
process.env.AWS_SECRET_ACCESS_KEY = "testing";
process.env.AWS_REGION = "us-east-1";

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number };
            server.close(() => resolve(port));
        });
    });
}

export async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs; // monotonic: the wall clock may jump
    for (;;) {
        try {
            await fetch(url);
            return;
        } catch (error) {
            if (performance.now() > deadline) throw new Error(`${url} did not come up: ${(error as Error).message}`);
            await new Promise((r) => setTimeout(r, 100));
        }
    }
}

/**
 * moto's LastModified has 1 s resolution and history merges writes at most 1 s apart into one change:
 * runs each write at least two clock seconds after the previous one (of this test process) ended.
 */
let lastWrite = 0;
export async function apart<T>(write: () => Promise<T>): Promise<T> {
    const start = (Math.floor(lastWrite / 1000) + 2) * 1000 + 20;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start - Date.now())));
    try {
        return await write();
    } finally {
        lastWrite = Date.now();
    }
}

/** The Python that runs moto_server (its script's shebang, as pip and pipx write it), else python3 (e.g. a pyenv shim). */
function motoPython(): string {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const script = path.join(dir, "moto_server");
        if (!existsSync(script)) continue;
        const shebang = /^#!(\S*python[\d.]*)\s*$/m.exec(readFileSync(script, "utf8").split("\n")[0]);
        return shebang?.[1] ?? "python3";
    }
    return "python3";
}

export interface AccessKey {
    accessKeyId: string;
    secretAccessKey: string;
}

/** One line of moto's access log: `127.0.0.1 - - [date] "PUT /bucket/key HTTP/1.1" 200 -`. */
export interface LoggedRequest {
    method: string;
    path: string;
    status: number;
}

const ACCESS_LOG_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/;
const SENTINEL_PATH = "/bench-sentinel-";

/**
 * A moto_server (S3, and IAM when asked) on a loopback port of its own choosing, with a plain S3 client to set up
 * and inspect buckets. Its access log (werkzeug, one line per request it answered, on stderr) is parsed as it
 * arrives, so `recordRequests` tells which requests a command sent: nothing sits between the tools and the server,
 * so the bench's timings are not skewed.
 */
export class Moto {
    /** Any credentials until enforceIam(), an IAM user allowed s3:* after. */
    s3: S3Client;
    readonly endpoint: string;
    private readonly child: ChildProcess;
    private readonly log: LoggedRequest[] = [];
    private readonly waiters = new Map<string, () => void>();
    private sentinels = 0;
    private buckets = 0;

    private constructor(port: number, child: ChildProcess, stderrLines: Interface) {
        this.child = child;
        this.endpoint = `http://127.0.0.1:${port}`;
        this.s3 = new S3Client({ endpoint: this.endpoint, forcePathStyle: true, region: "us-east-1" });
        stderrLines.on("line", (line) => this.onLogLine(line));
    }

    /**
     * `iam`: run moto through moto_iam_server.py, which fixes moto's SigV4 check of escaped query values (see
     * there), so that IAM can be enforced with enforceIam().
     */
    static async start(options: { iam?: boolean } = {}): Promise<Moto> {
        const address = ["-H", "127.0.0.1", "-p", "0"];
        const child = options.iam
            ? spawn(motoPython(), [path.join(import.meta.dirname, "moto_iam_server.py"), ...address], { stdio: ["ignore", "ignore", "pipe"] })
            : spawn("moto_server", address, { stdio: ["ignore", "ignore", "pipe"] });
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
        const moto = new Moto(port, child, stderrLines);
        await moto.sync();
        return moto;
    }

    /** An IAM user with `policy` as its inline policy, and its access key (call before enforceIam()). */
    async createUser(name: string, policy: object): Promise<AccessKey> {
        const iam = new IAMClient({ endpoint: this.endpoint, region: "us-east-1" });
        try {
            await iam.send(new CreateUserCommand({ UserName: name }));
            await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: name, PolicyDocument: JSON.stringify(policy) }));
            const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
            return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
        } finally {
            iam.destroy();
        }
    }

    /**
     * From now on moto checks every request's signature and the caller's IAM policies (moto's
     * INITIAL_NO_AUTH_ACTION_COUNT, set to 0 through /moto-api/reset-auth). `s3` becomes an admin user.
     */
    async enforceIam(): Promise<void> {
        const admin = await this.createUser("admin", {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
        });
        const reset = await fetch(`${this.endpoint}/moto-api/reset-auth`, { method: "POST", body: "0" });
        if (!reset.ok) throw new Error(`moto reset-auth: ${reset.status} ${await reset.text()}`);
        this.s3.destroy();
        this.s3 = new S3Client({ endpoint: this.endpoint, forcePathStyle: true, region: "us-east-1", credentials: admin });
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

    async createBucket(name: string, versioned = true): Promise<void> {
        await this.s3.send(new CreateBucketCommand({ Bucket: name }));
        if (versioned) {
            await this.s3.send(
                new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } }),
            );
        }
    }

    async put(bucket: string, key: string, body: string): Promise<void> {
        await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }

    /** Uploads one object in parts, as `aws s3 cp` does for large files. */
    async putMultipart(bucket: string, key: string, parts: Buffer[]): Promise<void> {
        const where = { Bucket: bucket, Key: key };
        const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand(where));
        const done = [];
        for (const [i, Body] of parts.entries()) {
            const { ETag } = await this.s3.send(new UploadPartCommand({ ...where, UploadId, PartNumber: i + 1, Body }));
            done.push({ ETag, PartNumber: i + 1 });
        }
        await this.s3.send(new CompleteMultipartUploadCommand({ ...where, UploadId, MultipartUpload: { Parts: done } }));
    }

    /** Every version and delete marker under the prefix, as sorted "key versionId etag|delete-marker" lines. */
    async versions(bucket: string, prefix: string): Promise<string[]> {
        const listing = await this.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
        return [
            ...(listing.Versions ?? []).map((v) => `${v.Key} ${v.VersionId} ${v.ETag}`),
            ...(listing.DeleteMarkers ?? []).map((m) => `${m.Key} ${m.VersionId} delete-marker`),
        ].sort();
    }

    /**
     * What a refused run left under the prefix: every version and delete marker but the lease's, and the lease itself
     * if it is still there. A push of content new to this machine takes the lease before its tree is validated and
     * deletes it when the tree is refused; a versioned bucket keeps that lease's version and delete marker.
     */
    async leftBehind(bucket: string, prefix: string): Promise<string[]> {
        const versions = (await this.versions(bucket, prefix)).filter((line) => !isLeaseKey(line.split(" ")[0]));
        const held = Object.keys(await this.md5s(bucket, prefix)).filter(isLeaseKey).map((key) => `${key} (lease still there)`);
        return [...versions, ...held];
    }

    /**
     * Every current key under the prefix with its ETag unquoted: the MD5 of its content for an object written in
     * one PUT, as S3 gives it without SSE-KMS (release records left out, as in `contents`). One listing instead of one
     * GET per key, for trees of thousands.
     */
    async md5s(bucket: string, prefix = ""): Promise<Record<string, string>> {
        const md5s: Record<string, string> = {};
        for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: bucket, Prefix: prefix })) {
            for (const { Key, ETag } of page.Contents ?? []) if (path.posix.basename(Key!) !== RELEASE_NAME) md5s[Key!] = ETag!.replaceAll('"', "");
        }
        return md5s;
    }

    /**
     * Every current key under the prefix with its body (all pages of the listing, bodies read 16 at a time), but the
     * release records bucketops keeps beside a tree (`.bucketops-release`) unless `releases`: what to compare with a tree.
     */
    async contents(bucket: string, prefix = "", releases = false): Promise<Record<string, string>> {
        const keys: string[] = [];
        for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: bucket, Prefix: prefix })) {
            keys.push(...(page.Contents ?? []).map(({ Key }) => Key!).filter((key) => releases || path.posix.basename(key) !== RELEASE_NAME));
        }
        const bodies = await mapBounded(
            keys,
            async (Key) => (await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToString(),
            16,
        );
        return Object.fromEntries(keys.map((key, i) => [key, bodies[i]]));
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
