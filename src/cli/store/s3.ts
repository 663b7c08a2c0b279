import { createRequire } from "node:module";
import type * as S3Sdk from "@aws-sdk/client-s3";
import type { ListObjectsV2CommandOutput, ListObjectVersionsCommandOutput } from "@aws-sdk/client-s3";
import type { DeserializeHandler, HandlerExecutionContext } from "@smithy/types";
import { compareKeys } from "../../bucket/keys.ts";
import { CliError } from "../errors.ts";
import { endpointUrl, type BucketUrl } from "../url.ts";
import { ExpectedKeys } from "./expectedKeys.ts";
import { accessDenied, concurrentWrite, explained, isTimeout } from "./errors.ts";
import { DEFAULT_ACCESS_HINT, DEFAULT_TIMEOUTS, noAnswerRetry, type NetworkTimeouts, type ObjectEntry, type ObjectStore, type ObjectVersion, type PutOptions } from "./types.ts";

// The SDK is CommonJS. Required as such, it skips what the ES module loader does to a CommonJS package it imports:
// detect its format (a parse of the 260 KB bundle) and lex its exports (about 5 ms of every command that talks to S3).
const {
    AbortMultipartUploadCommand,
    CompleteMultipartUploadCommand,
    CopyObjectCommand,
    CreateMultipartUploadCommand,
    DeleteObjectCommand,
    DeleteObjectsCommand,
    GetBucketVersioningCommand,
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    ListObjectVersionsCommand,
    PutObjectCommand,
    S3Client,
    S3ServiceException,
    UploadPartCopyCommand,
} = createRequire(import.meta.url)("@aws-sdk/client-s3") as typeof S3Sdk;

export interface S3Options {
    /** A URL, or a bare host as Flux's `spec.endpoint` takes it (https unless `insecure`). */
    endpoint?: string;
    insecure?: boolean;
    region?: string;
    profile?: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    /** Send If-Match / If-None-Match on writes (S3, MinIO and moto honour them). */
    conditionalWrites?: boolean;
    timeouts?: NetworkTimeouts;
    /** What to check when the server refuses these credentials an operation: where they came from. */
    accessHint?: string;
    /** Where a retry is said (stderr): one line per attempt that got no answer. */
    warn?: (line: string) => void;
}

const DELETE_BATCH = 1000;
/** The most keys a ListObjectsV2 page holds (MaxKeys' default and limit). */
const LIST_PAGE = 1000;
/** The expected keys a listing range holds (S3Store.list): the rest of its first page is room for unexpected ones. */
const LIST_STRIDE = LIST_PAGE - 20;
/** `s3.amazonaws.com`, `s3.<region>.amazonaws.com`, `s3-<region>.amazonaws.com` (and .com.cn); group 1: the region. */
const AWS_ENDPOINT = /^s3(?:[.-]([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$/;

/** minio-go's trimEtag, which is what source-controller's listing hands to the index. */
export function trimEtag(etag: string | undefined): string {
    let trimmed = etag ?? "";
    if (trimmed.startsWith('"')) trimmed = trimmed.slice(1);
    if (trimmed.endsWith('"')) trimmed = trimmed.slice(0, -1);
    return trimmed;
}

/** A single-part upload's ETag is the content MD5; multipart and SSE-KMS ETags are not. */
function md5FromEtag(etag: string): string | undefined {
    return /^[0-9a-f]{32}$/.test(etag) ? etag : undefined;
}

/** The calls S3 answers with an XML document when they succeed (the others answer with no body, or an object's). */
const XML_ANSWERS = new Set([
    "ListObjectsV2Command",
    "ListObjectVersionsCommand",
    "GetBucketVersioningCommand",
    "DeleteObjectsCommand",
    "CopyObjectCommand",
    "CreateMultipartUploadCommand",
    "UploadPartCopyCommand",
    "CompleteMultipartUploadCommand",
]);

/**
 * S3 answers listings and the other XML_ANSWERS calls, and every error that has a body, with XML. A web server, a
 * console port or a proxy's error page answers with HTML instead, which the SDK would read as an empty listing
 * ("no objects") or an unnamed error ("NotFound: UnknownError"): say what was expected and what came back.
 */
/**
 * One line per attempt that got no answer (isTimeout) and will be tried again. The deserialize step runs once per attempt, inside
 * the SDK's retry middleware; attempts of one operation share its `input` object, which counts them.
 */
function sayRetries(where: string, timeouts: NetworkTimeouts, warn: (line: string) => void) {
    const attempts = new WeakMap<object, number>();
    return <Output extends object>(next: DeserializeHandler<object, Output>, context: HandlerExecutionContext): DeserializeHandler<object, Output> =>
        async (args) => {
            const attempt = (attempts.get(args.input) ?? 0) + 1;
            attempts.set(args.input, attempt);
            try {
                return await next(args);
            } catch (error) {
                const operation = String(context.commandName ?? "a request").replace(/Command$/, "");
                if (isTimeout(error) && attempt < timeouts.attempts) warn(noAnswerRetry(`${where}: ${operation}`, timeouts, attempt));
                throw error;
            }
        };
}

function refuseNonS3Answers(where: string) {
    const check = (response: unknown, command: string) => {
        const { statusCode = 0, headers } = (response ?? {}) as { statusCode?: number; headers?: Record<string, string> };
        const type = headers?.["content-type"] ?? "";
        const hasBody = headers?.["content-length"] !== "0";
        const expectsXml = statusCode >= 300 ? hasBody && command !== "HeadObjectCommand" : XML_ANSWERS.has(command);
        if (!expectsXml || type === "" || /xml/i.test(type)) return;
        throw new CliError(
            `${where} answered ${command.replace(/Command$/, "")} with HTTP ${statusCode} ${type.split(";")[0]}, not with S3's XML: ` +
                `is that an S3 API endpoint? (for MinIO and other S3-compatible servers, the API address, not the console's)`,
        );
    };
    return <Output extends object>(next: DeserializeHandler<object, Output>, context: HandlerExecutionContext): DeserializeHandler<object, Output> =>
        async (args) => {
            try {
                const result = await next(args);
                check(result.response, context.commandName ?? "");
                return result;
            } catch (error) {
                if (!(error instanceof CliError)) check((error as { $response?: unknown }).$response, context.commandName ?? "");
                throw error;
            }
        };
}

export class S3Store implements ObjectStore {
    readonly description: string;
    readonly copiesKeepEtag = true;
    private readonly client: InstanceType<typeof S3Client>;
    /** Where a listing's ranges start. */
    private readonly expected = new ExpectedKeys();
    private readonly conditionalWrites: boolean;

    readonly url: BucketUrl;

    private readonly timeouts: NetworkTimeouts;
    private readonly accessHint: string;
    /** Not AWS: STS is not there to ask who the credentials are. */
    private readonly customEndpoint: boolean;

    constructor(url: BucketUrl, options: S3Options = {}) {
        this.url = url;
        this.timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
        this.accessHint = options.accessHint ?? DEFAULT_ACCESS_HINT;
        // An AWS endpoint such as Flux's `s3.<region>.amazonaws.com` only names the region: the SDK
        // then addresses the bucket itself (virtual-hosted). Other endpoints are used as given, path-style.
        const aws = options.endpoint ? AWS_ENDPOINT.exec(new URL(endpointUrl(options.endpoint)).hostname) : null;
        const endpoint = options.endpoint && !aws ? endpointUrl(options.endpoint, options.insecure) : undefined;
        const credentials =
            options.accessKeyId && options.secretAccessKey
                ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
                : undefined;
        this.client = new S3Client({
            endpoint,
            region: options.region ?? aws?.[1] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
            forcePathStyle: endpoint !== undefined,
            followRegionRedirects: true,
            credentials,
            profile: options.profile,
            // The SDK's standard retry strategy retries timeouts, throttling, 5xx and resets with backoff.
            maxAttempts: this.timeouts.attempts,
            requestHandler: { connectionTimeout: this.timeouts.connectMs, requestTimeout: this.timeouts.requestMs, throwOnRequestTimeout: true },
            // Uploads carry Content-MD5 already; the SDK's default extra CRC32 trailers cost CPU and
            // are not understood by every S3-compatible server.
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
        });
        this.conditionalWrites = options.conditionalWrites ?? true;
        this.customEndpoint = endpoint !== undefined;
        this.description = `s3://${url.bucket}${endpoint ? ` at ${endpoint}` : ""}`;
        // The SDK's logger step copies every answer through its sensitive-data filter for a logger that logs nothing
        // (its default's info() is a no-op that still gets the copy): 3 ms of CPU per 1,000-key listing page.
        this.client.middlewareStack.remove("loggerMiddleware");
        this.client.middlewareStack.add(refuseNonS3Answers(this.description), { step: "deserialize", name: "refuseNonS3Answers", priority: "high" });
        const warn = options.warn ?? ((line: string) => console.error(line));
        this.client.middlewareStack.add(sayRetries(this.description, this.timeouts, warn), { step: "deserialize", name: "sayRetries", priority: "low" });
    }

    async identity(): Promise<string> {
        let accessKeyId: string;
        try {
            ({ accessKeyId } = await this.client.config.credentials());
        } catch {
            return "unknown (no credentials)";
        }
        if (this.customEndpoint) return `access key ${accessKeyId}`;
        // Loaded only here: STS is asked once per push or rollback, on AWS.
        const { GetCallerIdentityCommand, STSClient } = await import("@aws-sdk/client-sts");
        const sts = new STSClient({
            region: await this.client.config.region(),
            credentials: this.client.config.credentials,
            maxAttempts: this.timeouts.attempts,
            requestHandler: { connectionTimeout: this.timeouts.connectMs, requestTimeout: this.timeouts.requestMs, throwOnRequestTimeout: true },
        });
        try {
            return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? `access key ${accessKeyId}`;
        } catch {
            return `access key ${accessKeyId}`;
        } finally {
            sts.destroy();
        }
    }

    async list(prefix: string, likely?: string[] | Promise<string[]>): Promise<ObjectEntry[]> {
        return this.call(`list '${prefix}'`, async () => {
            // ListObjectsV2 answers at most 1,000 keys a page, and each page's continuation token comes with the one
            // before: 3 round trips one after the other for 2,021 keys. With the keys the prefix is likely to hold,
            // the listing is cut into ranges of 1,000 of them, each listed from its first key on (StartAfter) at once:
            // a range goes on (continuation) until it reaches the next range's start, so the keys there really are,
            // added or gone, are each listed exactly once. A range holds LIST_STRIDE expected keys, so that its first
            // page still reaches the next range with up to LIST_PAGE - LIST_STRIDE keys more than expected (bucketops'
            // own records, a few new files) without another round trip. The first page is asked for at once, the
            // expected keys (a tree still being read) or not.
            let whole = false;
            const first = this.listPage(prefix, {});
            first.then((page) => (whole = !page.IsTruncated), () => undefined);
            const sorted = await this.expected.of(prefix, likely);
            // A first page that already came back whole (an empty prefix, a first push) needs no other range.
            const starts = whole ? [] : sorted.filter((_, index) => index % LIST_STRIDE === LIST_STRIDE - 1);
            const ranges = await Promise.all([
                this.listRange(prefix, first, starts[0]),
                ...starts.map((start, index) => this.listRange(prefix, this.listPage(prefix, { StartAfter: start }), starts[index + 1])),
            ]);
            const entries = ranges.flat();
            this.expected.remember(prefix, entries.map((entry) => entry.key));
            return entries;
        });
    }

    private listPage(prefix: string, from: { StartAfter?: string; ContinuationToken?: string }): Promise<ListObjectsV2CommandOutput> {
        return this.client.send(new ListObjectsV2Command({ Bucket: this.url.bucket, Prefix: prefix, ...from }));
    }

    /** The keys of the prefix from the page `first` on, up to `end` included (to the last when unset). */
    private async listRange(prefix: string, first: Promise<ListObjectsV2CommandOutput>, end: string | undefined): Promise<ObjectEntry[]> {
        const entries: ObjectEntry[] = [];
        let next: Promise<ListObjectsV2CommandOutput> | undefined = first;
        while (next) {
            const page: ListObjectsV2CommandOutput = await next;
            for (const object of page.Contents ?? []) {
                if (end !== undefined && compareKeys(object.Key!, end) > 0) return entries;
                const etag = trimEtag(object.ETag);
                entries.push({ key: object.Key!, etag, size: object.Size ?? 0, md5: md5FromEtag(etag) });
            }
            // The next range starts after `end`: a page that reached it ends this one.
            const last = page.Contents?.at(-1)?.Key;
            if (end !== undefined && last !== undefined && compareKeys(last, end) >= 0) return entries;
            next = page.IsTruncated && page.NextContinuationToken ? this.listPage(prefix, { ContinuationToken: page.NextContinuationToken }) : undefined;
        }
        return entries;
    }

    async get(key: string, versionId?: string): Promise<Buffer | undefined> {
        return this.call(`read ${key}${versionId ? ` (version ${versionId})` : ""}`, async () => {
            try {
                const out = await this.client.send(
                    new GetObjectCommand({ Bucket: this.url.bucket, Key: key, VersionId: versionId }),
                );
                return Buffer.from(await out.Body!.transformToByteArray());
            } catch (error) {
                if (error instanceof S3ServiceException && error.name === "NoSuchKey") return undefined;
                throw error;
            }
        });
    }

    async put(key: string, body: Buffer, options: PutOptions): Promise<ObjectEntry> {
        // S3 answers If-Match on a key that is gone with 404 NoSuchKey (moto too): the object listed was deleted since.
        const gone = this.conditions(options.expected).IfMatch !== undefined ? "NoSuchKey" : undefined;
        return this.call(`write ${key}`, () =>
            this.conditionally(key, gone, async () => {
                const out = await this.client.send(
                    new PutObjectCommand({
                        Bucket: this.url.bucket,
                        Key: key,
                        Body: body,
                        ContentMD5: options.md5.toString("base64"),
                        ContentType: options.contentType,
                        ...this.conditions(options.expected),
                    }),
                );
                const etag = trimEtag(out.ETag);
                return { key, etag, size: body.length, md5: md5FromEtag(etag), ...(out.VersionId ? { versionId: out.VersionId } : {}) };
            }),
        );
    }

    /** If-None-Match / If-Match for a write that expects `expected` (null: no object) at the key. */
    private conditions(expected: ObjectEntry | null | undefined): { IfNoneMatch?: string; IfMatch?: string } {
        if (!this.conditionalWrites || expected === undefined) return {};
        return expected === null ? { IfNoneMatch: "*" } : { IfMatch: `"${expected.etag}"` };
    }

    /**
     * Runs a conditional write, turning a refused precondition into a concurrent-change error; `gone`: the error name
     * that means the expected object no longer exists (a put's If-Match; a copy's NoSuchKey may be its source).
     */
    private async conditionally<T>(key: string, gone: string | undefined, write: () => Promise<T>): Promise<T> {
        try {
            return await write();
        } catch (error) {
            const name = (error as { name?: string }).name;
            if (name === "PreconditionFailed" || name === "ConditionalRequestConflict" || (gone !== undefined && name === gone)) {
                throw concurrentWrite(key, this.description);
            }
            throw error;
        }
    }

    async delete(keys: string[]): Promise<void> {
        await this.call(keys.length === 1 ? `delete ${keys[0]}` : `delete ${keys.length} object(s)`, async () => {
            // One key (a lease): DeleteObject. moto's IAM check authorizes a batch on the bucket rather than per key as
            // S3 does, so a prefix-scoped writer could not release its lease there.
            if (keys.length === 1) {
                await this.client.send(new DeleteObjectCommand({ Bucket: this.url.bucket, Key: keys[0] }));
                return;
            }
            for (let i = 0; i < keys.length; i += DELETE_BATCH) {
                const batch = keys.slice(i, i + DELETE_BATCH);
                const out = await this.client.send(
                    new DeleteObjectsCommand({
                        Bucket: this.url.bucket,
                        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
                    }),
                );
                const failed = out.Errors ?? [];
                if (failed.length > 0) {
                    const first = failed[0];
                    throw new CliError(
                        `could not delete ${failed.length} object(s) from ${this.description}, ` +
                            `e.g. ${first.Key}: ${first.Code} ${first.Message ?? ""}`.trim(),
                    );
                }
            }
        });
    }

    async deleteVersion(version: ObjectVersion): Promise<void> {
        await this.call(`delete version ${version.versionId} of ${version.key}`, async () => {
            await this.client.send(new DeleteObjectCommand({ Bucket: this.url.bucket, Key: version.key, VersionId: version.versionId }));
        });
    }

    async versioningEnabled(): Promise<boolean> {
        return this.call("read the bucket's versioning setting", async () => {
            const out = await this.client.send(new GetBucketVersioningCommand({ Bucket: this.url.bucket }));
            return out.Status === "Enabled";
        });
    }

    async listVersions(prefix: string): Promise<ObjectVersion[]> {
        return this.call(`list the versions under '${prefix}'`, async () => {
            const versions: ObjectVersion[] = [];
            for await (const page of this.versionPages(prefix)) {
                for (const v of page.Versions ?? []) {
                    const etag = trimEtag(v.ETag);
                    versions.push({
                        key: v.Key!,
                        versionId: v.VersionId ?? "null",
                        etag,
                        size: v.Size ?? 0,
                        md5: md5FromEtag(etag),
                        lastModified: v.LastModified!,
                        deleteMarker: false,
                        latest: v.IsLatest === true,
                    });
                }
                for (const m of page.DeleteMarkers ?? []) {
                    versions.push({
                        key: m.Key!,
                        versionId: m.VersionId ?? "null",
                        etag: "",
                        size: 0,
                        lastModified: m.LastModified!,
                        deleteMarker: true,
                        latest: m.IsLatest === true,
                    });
                }
            }
            return versions;
        });
    }

    /** ListObjectVersions has no SDK paginator: follow the key and version-id markers. */
    private async *versionPages(prefix: string): AsyncGenerator<ListObjectVersionsCommandOutput> {
        let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
        for (;;) {
            const page = await this.client.send(
                new ListObjectVersionsCommand({ Bucket: this.url.bucket, Prefix: prefix, ...markers }),
            );
            yield page;
            if (!page.IsTruncated) return;
            markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
        }
    }

    /**
     * CopyObject gives a copy a plain MD5 ETag, so a version uploaded in N parts is copied part by
     * part with the same boundaries (UploadPartCopy): its ETag, and so Flux's revision, come back too.
     */
    async restore(version: ObjectVersion, expected?: ObjectEntry | null, to = version.key): Promise<ObjectEntry> {
        const source = `${this.url.bucket}/${encodeURIComponent(version.key).replace(/%2F/g, "/")}?versionId=${encodeURIComponent(version.versionId)}`;
        const parts = Number(/-(\d+)$/.exec(version.etag)?.[1] ?? 0);
        const what = to === version.key ? `copy version ${version.versionId} of ${version.key} over it` : `copy version ${version.versionId} of ${version.key} to ${to}`;
        return this.call(what, () =>
            this.conditionally(to, undefined, async () => {
                const copied =
                    parts > 0
                        ? await this.copyInParts(version, source, parts, expected, to)
                        : await this.client
                              .send(new CopyObjectCommand({ Bucket: this.url.bucket, Key: to, CopySource: source, ...this.conditions(expected) }))
                              .then((out) => ({ ETag: out.CopyObjectResult?.ETag, VersionId: out.VersionId }));
                const etag = trimEtag(copied.ETag);
                return { key: to, etag, size: version.size, md5: md5FromEtag(etag), ...(copied.VersionId ? { versionId: copied.VersionId } : {}) };
            }),
        );
    }

    private async copyInParts(
        version: ObjectVersion,
        source: string,
        parts: number,
        expected: ObjectEntry | null | undefined,
        to: string,
    ): Promise<{ ETag?: string; VersionId?: string }> {
        const from = { Bucket: this.url.bucket, Key: version.key };
        const where = { Bucket: this.url.bucket, Key: to };
        const head = await this.client.send(new HeadObjectCommand({ ...from, VersionId: version.versionId }));
        const { UploadId } = await this.client.send(
            new CreateMultipartUploadCommand({ ...where, ContentType: head.ContentType, Metadata: head.Metadata }),
        );
        try {
            const done: { ETag?: string; PartNumber: number }[] = [];
            let start = 0;
            for (let PartNumber = 1; PartNumber <= parts; PartNumber++) {
                const part = await this.client.send(
                    new HeadObjectCommand({ ...from, VersionId: version.versionId, PartNumber }),
                );
                const end = start + (part.ContentLength ?? 0) - 1;
                const copied = await this.client.send(
                    new UploadPartCopyCommand({ ...where, UploadId, PartNumber, CopySource: source, CopySourceRange: `bytes=${start}-${end}` }),
                );
                done.push({ ETag: copied.CopyPartResult?.ETag, PartNumber });
                start = end + 1;
            }
            const out = await this.client.send(
                new CompleteMultipartUploadCommand({
                    ...where,
                    UploadId,
                    MultipartUpload: { Parts: done },
                    ...this.conditions(expected),
                }),
            );
            return out;
        } catch (error) {
            await this.client.send(new AbortMultipartUploadCommand({ ...where, UploadId })).catch(() => undefined);
            throw error;
        }
    }

    close(): void {
        this.client.destroy();
    }

    /** Runs one operation (`what`, for messages) and explains its failure. */
    private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
        return explained(operation, this.description, this.timeouts, (error) => this.explain(error, what));
    }

    private explain(error: unknown, what: string): CliError {
        const name = (error as { name?: string }).name ?? "Error";
        const message = (error as Error).message ?? String(error);
        switch (name) {
            case "NoSuchBucket":
                return new CliError(`bucket '${this.url.bucket}' does not exist (${this.description})`);
            case "AccessDenied":
                return accessDenied(what, this.description, `${name}: ${message}`, this.accessHint);
            case "InvalidAccessKeyId":
            case "SignatureDoesNotMatch":
            case "ExpiredToken":
            case "InvalidToken":
                return new CliError(
                    `credentials rejected by ${this.description}: ${name}: ${message}. ` +
                        `Provide writer credentials via the AWS SDK chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ` +
                        `AWS_PROFILE or --profile) or --from-stack-outputs.`,
                );
            case "CredentialsProviderError":
                return new CliError(
                    `no credentials for ${this.description}: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ` +
                        `AWS_PROFILE, pass --profile, or pass --from-stack-outputs with the writer's keys.`,
                );
            case "NotImplemented":
                return new CliError(
                    `${this.description} does not implement a request bucketops sent (${message}); ` +
                        `if it lacks conditional writes, retry with --no-conditional-writes.`,
                );
            default:
                return new CliError(`${this.description}: ${name}: ${message}`);
        }
    }
}
