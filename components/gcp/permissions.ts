export type BucketAccess = "read" | "write";

/** Flux's gcp provider checks that the bucket exists (buckets.get) before it lists; objectViewer lacks that. */
export const BUCKET_METADATA_PERMISSIONS = ["storage.buckets.get"];

/**
 * The object permissions of each identity, granted through a custom role on the bucket or, for an
 * environment, on its managed folder. The writer can create and delete objects; storage.objects.delete also
 * deletes a given generation, live or noncurrent, for good (JSON API objects.delete with `generation`), which
 * `bucketops purge` needs to take back a leaked secret. Readers can do neither.
 */
export const OBJECT_PERMISSIONS: Record<BucketAccess, string[]> = {
    read: ["storage.objects.get", "storage.objects.list"],
    write: ["storage.objects.create", "storage.objects.delete", "storage.objects.get", "storage.objects.list"],
};

/** What a whole-bucket identity holds: the bucket check plus its object permissions. */
export const BUCKET_PERMISSIONS: Record<BucketAccess, string[]> = {
    read: [...BUCKET_METADATA_PERMISSIONS, ...OBJECT_PERMISSIONS.read],
    write: [...BUCKET_METADATA_PERMISSIONS, ...OBJECT_PERMISSIONS.write],
};
