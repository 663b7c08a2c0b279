import { URL_SCHEMES, type UrlScheme } from "../bucket/providers.ts";
import { UsageError } from "./errors.ts";

/**
 * `s3://bucket/prefix` or `gs://bucket/prefix`. `prefix` is kept verbatim, as Flux's `spec.prefix` would be; push,
 * history and rollback use it as a folder (normalizePrefix: `prod`, `./prod/` and `prod//` are all `prod/`).
 */
export interface BucketUrl {
    scheme: UrlScheme;
    bucket: string;
    prefix: string;
}

export function parseBucketUrl(text: string): BucketUrl {
    const match = /^([a-z0-9]+):\/\/([^/]+)(?:\/(.*))?$/i.exec(text);
    const scheme = match?.[1].toLowerCase();
    if (!match || !scheme || !(URL_SCHEMES as string[]).includes(scheme)) {
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
    const prefix = match[3] ?? "";
    if (prefix.split("/").includes("..")) {
        throw new UsageError(`invalid prefix '${prefix}' in '${text}': '..' is not allowed; name the folder from the bucket root, e.g. envs/prod`);
    }
    return { scheme: scheme as UrlScheme, bucket, prefix };
}

export function formatBucketUrl(url: BucketUrl): string {
    return `${url.scheme}://${url.bucket}/${url.prefix}`;
}

/** A URL as given, or a bare host as Flux's `spec.endpoint` takes it: https unless `insecure`. */
export function endpointUrl(endpoint: string, insecure = false): string {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `${insecure ? "http" : "https"}://${endpoint}`;
}
