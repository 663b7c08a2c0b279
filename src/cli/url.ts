import { UsageError } from "./errors.ts";

export type Provider = "s3" | "gcs";

/** `s3://bucket/prefix` or `gs://bucket/prefix`. `prefix` is kept verbatim, as Flux's `spec.prefix` would be. */
export interface BucketUrl {
    provider: Provider;
    bucket: string;
    prefix: string;
}

const SCHEMES: Record<string, Provider> = { "s3:": "s3", "gs:": "gcs" };

export function parseBucketUrl(text: string): BucketUrl {
    const match = /^([a-z0-9]+:)\/\/([^/]+)(?:\/(.*))?$/i.exec(text);
    const provider = match ? SCHEMES[match[1].toLowerCase()] : undefined;
    if (!match || !provider) {
        throw new UsageError(
            `invalid bucket URL '${text}': expected s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]`,
        );
    }
    const bucket = match[2];
    if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucket)) {
        throw new UsageError(
            `invalid bucket name '${bucket}' in '${text}': use 3-63 lowercase letters, digits, '.', '-' or '_'`,
        );
    }
    return { provider, bucket, prefix: match[3] ?? "" };
}

/**
 * The prefix as a folder: push, history and rollback treat the URL path as a directory,
 * so `envs/prod` and `envs/prod/` both mean the keys under `envs/prod/` (never `envs/prod2/...`).
 */
export function folderPrefix(prefix: string): string {
    return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}

export function formatBucketUrl(url: BucketUrl): string {
    return `${url.provider === "s3" ? "s3" : "gs"}://${url.bucket}/${url.prefix}`;
}

/** A URL as given, or a bare host as Flux's `spec.endpoint` takes it: https unless `insecure`. */
export function endpointUrl(endpoint: string, insecure = false): string {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `${insecure ? "http" : "https"}://${endpoint}`;
}
