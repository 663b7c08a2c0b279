import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import {
    CompleteMultipartUploadCommand,
    CreateBucketCommand,
    CreateMultipartUploadCommand,
    GetObjectCommand,
    ListObjectsV2Command,
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

/** A moto_server on a free 127.0.0.1 port, with a plain S3 client to inspect what the CLI did. */
export class Moto {
    readonly s3: S3Client;

    private constructor(
        readonly endpoint: string,
        private readonly process: ChildProcess,
    ) {
        this.s3 = new S3Client({ endpoint, forcePathStyle: true, region: "us-east-1" });
    }

    static async start(): Promise<Moto> {
        const port = await freePort();
        const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
        const endpoint = `http://127.0.0.1:${port}`;
        await waitForHttp(endpoint);
        return new Moto(endpoint, child);
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

    /** Every current key under the prefix with its body. */
    async contents(bucket: string, prefix = ""): Promise<Record<string, string>> {
        const listing = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        const result: Record<string, string> = {};
        for (const { Key } of listing.Contents ?? []) {
            const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
            result[Key!] = await object.Body!.transformToString();
        }
        return result;
    }
}
