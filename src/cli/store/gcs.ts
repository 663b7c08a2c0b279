import { readFileSync } from "node:fs";
import { Storage, type File, type FileMetadata } from "@google-cloud/storage";
import pLimit from "p-limit";
import { CliError } from "../errors.ts";
import { endpointUrl, type BucketUrl } from "../url.ts";
import { ExpectedKeys } from "./expectedKeys.ts";
import { accessDenied, concurrentWrite, explained } from "./errors.ts";
import { DEFAULT_ACCESS_HINT, DEFAULT_TIMEOUTS, type NetworkTimeouts, type ObjectEntry, type ObjectStore, type ObjectVersion, type PutOptions } from "./types.ts";

export interface GcsOptions {
    /** API endpoint (an emulator or a private endpoint); unset for Google's. */
    endpoint?: string;
    insecure?: boolean;
    /** Service-account key JSON (the infra stack's writerServiceAccountKey); unset: Application Default Credentials. */
    serviceAccountKey?: string;
    timeouts?: NetworkTimeouts;
    /** What to check when the server refuses these credentials an operation: where they came from. */
    accessHint?: string;
}

const PARALLEL_DELETES = 16;
/** The most names an objects.list page holds (maxResults' default and limit). */
const LIST_PAGE = 1000;

function entryOf(metadata: FileMetadata): ObjectEntry {
    return {
        key: metadata.name!,
        // source-controller's GCS client puts ObjectAttrs.Etag, the JSON API `etag`, in its index.
        etag: metadata.etag ?? "",
        size: Number(metadata.size ?? 0),
        md5: metadata.md5Hash ? Buffer.from(metadata.md5Hash, "base64").toString("hex") : undefined,
        generation: metadata.generation === undefined ? undefined : String(metadata.generation),
        versionId: metadata.generation === undefined ? undefined : String(metadata.generation),
    };
}

/** ifGenerationMatch for a write that expects `expected` (null: no object; 0 means "does not exist"). */
function preconditions(expected: ObjectEntry | null | undefined): { ifGenerationMatch: number } | undefined {
    if (expected === undefined) return undefined;
    return { ifGenerationMatch: expected === null ? 0 : Number(expected.generation) };
}

function statusOf(error: unknown): number | undefined {
    return (error as { code?: unknown }).code as number | undefined;
}

/**
 * Who the Application Default Credentials file says the caller is, without a request (google-auth-library would
 * probe the metadata server): a key's `client_email`, or the account an `external_account` file impersonates, as
 * google-github-actions/auth writes it (v3.0.0 src/client/workload_identity_federation.ts:
 * `service_account_impersonation_url` = `…/projects/-/serviceAccounts/<email>:generateAccessToken`).
 */
export function applicationDefaultIdentity(file: string | undefined): string | undefined {
    if (!file) return undefined;
    try {
        const credentials = JSON.parse(readFileSync(file, "utf8"));
        if (typeof credentials.client_email === "string") return credentials.client_email;
        return /\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(String(credentials.service_account_impersonation_url ?? ""))?.[1];
    } catch {
        return undefined;
    }
}

export class GcsStore implements ObjectStore {
    readonly description: string;
    readonly copiesKeepEtag = false;
    private readonly storage: Storage;
    /** Where a listing's ranges start. */
    private readonly expected = new ExpectedKeys();

    readonly url: BucketUrl;

    private readonly timeouts: NetworkTimeouts;
    private readonly accessHint: string;
    private readonly serviceAccountEmail?: string;

    constructor(url: BucketUrl, options: GcsOptions = {}) {
        this.url = url;
        this.timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
        this.accessHint = options.accessHint ?? DEFAULT_ACCESS_HINT;
        const endpoint = options.endpoint ? endpointUrl(options.endpoint, options.insecure) : undefined;
        const credentials = options.serviceAccountKey ? JSON.parse(options.serviceAccountKey) : undefined;
        this.serviceAccountEmail = credentials?.client_email ?? applicationDefaultIdentity(process.env.GOOGLE_APPLICATION_CREDENTIALS);
        this.storage = new Storage({
            apiEndpoint: endpoint,
            credentials,
            projectId: credentials?.project_id,
            // `timeout` bounds each request (gaxios: no answer in time aborts it); retries back off, in total at most
            // what every attempt may take.
            timeout: this.timeouts.requestMs,
            retryOptions: {
                maxRetries: this.timeouts.attempts - 1,
                totalTimeout: (this.timeouts.attempts * (this.timeouts.requestMs + this.timeouts.connectMs)) / 1000,
            },
        });
        this.description = `gs://${url.bucket}${endpoint ? ` at ${endpoint}` : ""}`;
    }

    private get bucket() {
        return this.storage.bucket(this.url.bucket);
    }

    async identity(): Promise<string> {
        // From the key alone: asking google-auth-library would probe the metadata server when there is no key.
        return this.serviceAccountEmail ?? "unknown (application default credentials)";
    }

    async list(prefix: string, likely?: string[] | Promise<string[]>): Promise<ObjectEntry[]> {
        return this.call(`list '${prefix}'`, async () => {
            // objects.list answers at most 1,000 names a page, each page's token coming with the one before. With the
            // names the prefix is likely to hold, the listing is cut into ranges of 1,000 of them, listed at once:
            // startOffset (from, included) and endOffset (before, excluded) make the ranges exact, whatever the
            // prefix really holds (a range with more goes on with its page token).
            const sorted = await this.expected.of(prefix, likely);
            const bounds = sorted.filter((_, index) => index > 0 && index % LIST_PAGE === 0);
            const ranges = await Promise.all([undefined, ...bounds].map((start, index) => this.listRange(prefix, start, bounds[index])));
            const entries = ranges.flat();
            this.expected.remember(prefix, entries.map((entry) => entry.key));
            return entries;
        });
    }

    /** The objects of the prefix named from `startOffset` on (from the first when unset), before `endOffset` (to the last when unset). */
    private async listRange(prefix: string, startOffset: string | undefined, endOffset: string | undefined): Promise<ObjectEntry[]> {
        const [files] = await this.bucket.getFiles({ prefix, autoPaginate: true, ...(startOffset !== undefined ? { startOffset } : {}), ...(endOffset !== undefined ? { endOffset } : {}) });
        return files.map((file) => entryOf(file.metadata));
    }

    async get(key: string, versionId?: string): Promise<Buffer | undefined> {
        return this.call(`read ${key}${versionId ? ` (generation ${versionId})` : ""}`, async () => {
            const file = this.bucket.file(key, versionId ? { generation: Number(versionId) } : {});
            try {
                const [content] = await file.download();
                return content;
            } catch (error) {
                if (statusOf(error) === 404) return undefined;
                throw error;
            }
        });
    }

    async put(key: string, body: Buffer, options: PutOptions): Promise<ObjectEntry> {
        const file = this.bucket.file(key);
        return this.call(`write ${key}`, () =>
            this.conditionally(key, async () => {
                await file.save(body, {
                    resumable: false,
                    validation: "md5",
                    metadata: { contentType: options.contentType, md5Hash: options.md5.toString("base64") },
                    preconditionOpts: preconditions(options.expected),
                });
                return entryOf(file.metadata);
            }),
        );
    }

    /** Runs a conditional write, turning a refused precondition into a concurrent-change error. */
    private async conditionally<T>(key: string, write: () => Promise<T>): Promise<T> {
        try {
            return await write();
        } catch (error) {
            if (statusOf(error) === 412) throw concurrentWrite(key, this.description);
            throw error;
        }
    }

    async delete(keys: string[]): Promise<void> {
        const limit = pLimit(PARALLEL_DELETES);
        await this.call(`delete ${keys.length} object(s)`, () =>
            Promise.all(keys.map((key) => limit(() => this.bucket.file(key).delete({ ignoreNotFound: true })))),
        );
    }

    async deleteVersion(version: ObjectVersion): Promise<void> {
        if (version.deleteMarker) return; // the end of a generation, listed as a marker: not an object
        await this.call(`delete generation ${version.versionId} of ${version.key}`, async () => {
            // A generation given: deleted for good, whether live or noncurrent (JSON API objects.delete; storage.objects.delete).
            await this.bucket.file(version.key, { generation: Number(version.versionId) }).delete({ ignoreNotFound: true });
        });
    }

    async versioningEnabled(): Promise<boolean> {
        return this.call("read the bucket's versioning setting", async () => {
            const [metadata] = await this.bucket.getMetadata();
            return metadata.versioning?.enabled === true;
        });
    }

    /**
     * GCS has no delete markers: a version stops being live at its `timeDeleted`. Each such end is
     * reported as a delete marker, which a newer generation created at the same instant supersedes.
     */
    async listVersions(prefix: string): Promise<ObjectVersion[]> {
        return this.call(`list the versions under '${prefix}'`, async () => {
            const [files] = await this.bucket.getFiles({ prefix, versions: true, autoPaginate: true });
            const versions: ObjectVersion[] = [];
            for (const { metadata } of files as File[]) {
                const entry = entryOf(metadata);
                const version = {
                    key: entry.key,
                    versionId: entry.generation!,
                    etag: entry.etag,
                    size: entry.size,
                    md5: entry.md5,
                };
                // A generation's end is stamped with the same instant as the generation that replaces it.
                const sequence = 2 * Number(entry.generation);
                versions.push({
                    ...version,
                    lastModified: new Date(metadata.timeCreated!),
                    deleteMarker: false,
                    latest: !metadata.timeDeleted,
                    sequence,
                });
                if (metadata.timeDeleted) {
                    versions.push({
                        ...version,
                        versionId: `${entry.generation}-end`,
                        etag: "",
                        size: 0,
                        md5: undefined,
                        lastModified: new Date(metadata.timeDeleted),
                        deleteMarker: true,
                        latest: false,
                        sequence: sequence + 1,
                    });
                }
            }
            // The newest end of a deleted key is its "latest" marker.
            const live = new Set(versions.filter((v) => v.latest).map((v) => v.key));
            const newestEnd = new Map<string, ObjectVersion>();
            for (const v of versions) {
                if (!v.deleteMarker || live.has(v.key)) continue;
                const seen = newestEnd.get(v.key);
                if (!seen || seen.lastModified < v.lastModified) newestEnd.set(v.key, v);
            }
            for (const v of newestEnd.values()) v.latest = true;
            return versions;
        });
    }

    async restore(version: ObjectVersion, expected?: ObjectEntry | null, to = version.key): Promise<ObjectEntry> {
        const what = to === version.key ? `copy generation ${version.versionId} of ${version.key} over it` : `copy generation ${version.versionId} of ${version.key} to ${to}`;
        return this.call(what, () =>
            this.conditionally(to, async () => {
                const source = this.bucket.file(version.key, { generation: Number(version.versionId) });
                const [copy] = await source.copy(this.bucket.file(to), {
                    preconditionOpts: preconditions(expected),
                });
                const [metadata] = await copy.getMetadata();
                return entryOf(metadata);
            }),
        );
    }

    close(): void {
        // @google-cloud/storage keeps no connection that outlives a request.
    }

    /** Runs one operation (`what`, for messages) and explains its failure. */
    private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
        return explained(operation, this.description, this.timeouts, (error) => this.explain(error, what));
    }

    private explain(error: unknown, what: string): CliError {
        const status = statusOf(error);
        const message = (error as Error).message ?? String(error);
        if (status === 404) return new CliError(`bucket '${this.url.bucket}' does not exist (${this.description}): ${message}`);
        if (status === 403) return accessDenied(what, this.description, `403: ${message}`, this.accessHint);
        if (status === 401) {
            return new CliError(
                `credentials rejected by ${this.description}: ${message}. Provide a service-account key ` +
                    `(GOOGLE_APPLICATION_CREDENTIALS or --from-stack-outputs with writerServiceAccountKey).`,
            );
        }
        return new CliError(`${this.description}: ${message}`);
    }
}
