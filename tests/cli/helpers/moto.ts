import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { mapBounded } from "../../../src/fs/bounded.ts";
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
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            await fetch(url);
            return;
        } catch (error) {
            if (Date.now() > deadline) throw new Error(`${url} did not come up: ${(error as Error).message}`);
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

/** A moto_server on a free 127.0.0.1 port, with a plain S3 client to inspect what the CLI did. */
export class Moto {
    /** Any credentials until enforceIam(), an IAM user allowed s3:* after. */
    s3: S3Client;

    readonly endpoint: string;
    private readonly process: ChildProcess;

    private constructor(endpoint: string, process: ChildProcess) {
        this.endpoint = endpoint;
        this.process = process;
        this.s3 = new S3Client({ endpoint, forcePathStyle: true, region: "us-east-1" });
    }

    /**
     * `iam`: run moto through helpers/moto_iam_server.py, which fixes moto's SigV4 check of escaped query
     * values (see there), so that IAM can be enforced with enforceIam().
     */
    static async start(options: { iam?: boolean } = {}): Promise<Moto> {
        const port = await freePort();
        const address = ["-H", "127.0.0.1", "-p", String(port)];
        const child = options.iam
            ? spawn(motoPython(), [path.join(import.meta.dirname, "moto_iam_server.py"), ...address], { stdio: "ignore" })
            : spawn("moto_server", address, { stdio: "ignore" });
        const endpoint = `http://127.0.0.1:${port}`;
        await waitForHttp(endpoint);
        return new Moto(endpoint, child);
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

    stop(): void {
        this.s3.destroy();
        this.process.kill("SIGKILL");
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

    /** Every current key under the prefix with its body (all pages of the listing, bodies read 16 at a time). */
    async contents(bucket: string, prefix = ""): Promise<Record<string, string>> {
        const keys: string[] = [];
        for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: bucket, Prefix: prefix })) {
            keys.push(...(page.Contents ?? []).map(({ Key }) => Key!));
        }
        const bodies = await mapBounded(
            keys,
            async (Key) => (await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToString(),
            16,
        );
        return Object.fromEntries(keys.map((key, i) => [key, bodies[i]]));
    }
}
