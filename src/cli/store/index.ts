import type { BucketUrl } from "../url";
import { GcsStore, type GcsOptions } from "./gcs";
import { S3Store, type S3Options } from "./s3";
import type { ObjectStore } from "./types";

export type { ObjectEntry, ObjectStore, ObjectVersion } from "./types";

export function openStore(url: BucketUrl, options: S3Options & GcsOptions): ObjectStore {
    return url.provider === "gcs" ? new GcsStore(url, options) : new S3Store(url, options);
}
