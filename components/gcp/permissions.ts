export type BucketAccess = "read" | "write";

/** Flux's gcp provider checks that the bucket exists (buckets.get) before it lists; objectViewer lacks that. */
export const BUCKET_METADATA_PERMISSIONS = ["storage.buckets.get"];

/**
 * The object permissions of each identity, granted through a custom role on the bucket or, for an
 * environment, on its managed folder. The writer can create and delete live objects; with versioning on,
 * neither destroys a past version.
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
