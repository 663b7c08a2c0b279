import type { BucketUrl } from "../url.ts";

/** A current object as a listing shows it. */
export interface ObjectEntry {
    key: string;
    /** The etag Flux puts in its index: S3 listing ETag without quotes, GCS object `etag`. */
    etag: string;
    size: number;
    /** Hex MD5 of the content when the provider tells it (S3: a plain single-part ETag; GCS: md5Hash). */
    md5?: string;
    /** Provider token for conditional writes (GCS generation); S3 uses the etag. */
    generation?: string;
    /**
     * The version this entry is, where the answer told it: S3's VersionId of a put or copy (its listings do not
     * tell it), GCS's generation always. Release manifests record it.
     */
    versionId?: string;
}

/** One version of a key, or a delete marker, as a version listing shows it. */
export interface ObjectVersion {
    key: string;
    versionId: string;
    etag: string;
    size: number;
    /** Hex MD5 of the content when the provider tells it. */
    md5?: string;
    lastModified: Date;
    deleteMarker: boolean;
    /** The key's current version (or its delete marker): breaks ties between equal timestamps. */
    latest: boolean;
    /** Where the store knows it (GCS: from the generation), the order of the key's versions: larger is newer. */
    sequence?: number;
}

export interface PutOptions {
    md5: Buffer;
    contentType: string;
    /** Precondition: the object must still be this one (null: must not exist). Unset: unconditional. */
    expected?: ObjectEntry | null;
}

/** How long a store waits before it gives up on the network; every request is tried `attempts` times. */
export interface NetworkTimeouts {
    /** To open a connection. */
    connectMs: number;
    /** For a request's answer: the time the connection may stay silent. */
    requestMs: number;
    /** Tries per request, for timeouts, throttling, 5xx and resets (with backoff between them). */
    attempts: number;
}

export const DEFAULT_TIMEOUTS: NetworkTimeouts = { connectMs: 10_000, requestMs: 60_000, attempts: 3 };

/** For a store opened without saying where its credentials came from. */
export const DEFAULT_ACCESS_HINT = "Check which identity these credentials belong to and what its policy allows.";

/**
 * The one message for an endpoint that stopped answering, after every attempt: `elapsedMs` is how long the operation
 * really took (every attempt's silence, the connects and the backoff between them), not one attempt's timeout.
 */
export function noAnswer(where: string, timeouts: NetworkTimeouts, elapsedMs: number): string {
    return (
        `${where} did not answer: ${timeouts.attempts} attempt(s) of up to ${timeouts.requestMs / 1000} s each (${timeouts.connectMs / 1000} s to ` +
        `connect) got no answer, ${Math.round(elapsedMs / 1000)} s in all: check the endpoint and the network, or raise --timeout`
    );
}

/** One line when an attempt got no answer and the client tries again (the last one ends in noAnswer's message). */
export function noAnswerRetry(where: string, timeouts: NetworkTimeouts, attempt: number): string {
    return `${where} did not answer within ${timeouts.requestMs / 1000} s (attempt ${attempt} of ${timeouts.attempts}); trying again`;
}

/** The few object-store operations bucketops needs, one implementation per provider. */
export interface ObjectStore {
    readonly url: BucketUrl;
    /** Human-readable location for messages, e.g. `s3://bucket at http://127.0.0.1:9000`. */
    readonly description: string;
    /**
     * Whether a restored copy gets the old version's etag, so a rollback reproduces the old Flux
     * revision: S3 yes (a single-part ETag is the content MD5), GCS no (etags are per generation).
     */
    readonly copiesKeepEtag: boolean;
    /**
     * Every current object whose key starts with `prefix`, in key order (compareKeys). `likely`: keys the prefix
     * probably holds (the tree about to be pushed); with them, or with this store's last listing of the prefix, a
     * store may ask for the pages of a long listing at once (each from a key it expects) rather than one after the
     * other: the result is the same, whatever the prefix really holds.
     */
    list(prefix: string, likely?: string[] | Promise<string[]>): Promise<ObjectEntry[]>;
    /** The object's content (of one version when given), or undefined when it does not exist. */
    get(key: string, versionId?: string): Promise<Buffer | undefined>;
    put(key: string, body: Buffer, options: PutOptions): Promise<ObjectEntry>;
    /** Deletes current objects; on a versioned bucket this only adds delete markers. */
    delete(keys: string[]): Promise<void>;
    versioningEnabled(): Promise<boolean>;
    /** Every version and delete marker whose key starts with `prefix`, each key's newest first. */
    listVersions(prefix: string): Promise<ObjectVersion[]>;
    /**
     * Deletes one version (or S3 delete marker) for good (S3 DeleteObject with its VersionId, GCS delete of its
     * generation): what `purge` does, the one operation that destroys history. GCS's delete-marker stand-ins
     * (ends of generations) are not objects: nothing to delete.
     */
    deleteVersion(version: ObjectVersion): Promise<void>;
    /**
     * Makes an old version current again by copying it over the key, server-side; returns the new current object.
     * `expected` is a precondition as for `put` (on the key written). `to`: copy it to this key of the same bucket
     * instead (a promotion between environments' prefixes).
     */
    restore(version: ObjectVersion, expected?: ObjectEntry | null, to?: string): Promise<ObjectEntry>;
    /**
     * Who these credentials are, for release records: AWS the caller's ARN (STS GetCallerIdentity), an S3-compatible
     * server the access key id, GCS the service account's email; `unknown (…)` when it cannot be told.
     */
    identity(): Promise<string>;
    /** Releases kept-alive connections. */
    close(): void;
}
