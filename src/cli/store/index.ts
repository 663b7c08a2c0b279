import type { BucketUrl } from "../url.ts";
import type { GcsOptions } from "./gcs.ts";
import type { S3Options } from "./s3.ts";
import type { ObjectStore } from "./types.ts";

/** Opens the store for a URL's scheme, loading only that provider's SDK (each takes a good part of a second to load). */
export async function openStore(url: BucketUrl, options: S3Options & GcsOptions): Promise<ObjectStore> {
    if (url.scheme === "gs") {
        const { GcsStore } = await import("./gcs.ts");
        return new GcsStore(url, options);
    }
    const { S3Store } = await import("./s3.ts");
    return new S3Store(url, options);
}
