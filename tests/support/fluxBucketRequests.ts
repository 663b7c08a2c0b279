import type { S3Request } from "./s3Authorization.ts";

/**
 * The S3 requests source-controller v1.8.2 sends for one reconcile of a `generic`/`aws` Bucket, read from its
 * code (internal/controller/bucket_controller.go fetchEtagIndex and fetchIndexFiles, internal/bucket/minio/minio.go)
 * and from minio-go v7.0.98's (api-stat.go BucketExists, api-list.go listObjectsV2Query). It cannot run here, so
 * this is its sequence written down, path-style.
 *  1. BucketExists: HEAD on the bucket.
 *  2. FGetObject of the root `.sourceignore`: StatObject (HEAD), then GET with If-Match on its etag.
 *     A missing one is fine only as NoSuchKey (404), which S3 answers only to an identity allowed s3:ListBucket.
 *  3. VisitObjects: ListObjectsV2 with `prefix` = spec.prefix, recursive: minio-go always sends `prefix` and
 *     `delimiter` (here empty), and `fetch-owner=true`.
 *  4. FGetObject of every indexed key: HEAD, then GET with If-Match.
 */
export function fluxReconcileRequests(bucket: string, prefix: string, keys: string[]): S3Request[] {
    const object = (key: string): S3Request[] => [
        { method: "HEAD", url: `/${bucket}/${encodeKey(key)}`, headers: {} },
        { method: "GET", url: `/${bucket}/${encodeKey(key)}`, headers: { "if-match": '"etag"' } },
    ];
    return [
        { method: "HEAD", url: `/${bucket}/`, headers: {} },
        ...object(".sourceignore"),
        { method: "GET", url: `/${bucket}/?delimiter=&encoding-type=url&fetch-owner=true&list-type=2&prefix=${encodeURIComponent(prefix)}`, headers: {} },
        ...keys.flatMap(object),
    ];
}

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");
