import type { BucketUrl } from "../url.ts";
import { GcsStore, type GcsOptions } from "./gcs.ts";
import { S3Store, type S3Options } from "./s3.ts";
import type { ObjectStore } from "./types.ts";

export type { ObjectEntry, ObjectStore, ObjectVersion } from "./types.ts";

export function openStore(url: BucketUrl, options: S3Options & GcsOptions): ObjectStore {
    return url.scheme === "gs" ? new GcsStore(url, options) : new S3Store(url, options);
}
