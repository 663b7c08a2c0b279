export type BucketAccess = "read" | "write";

/**
 * The storage permissions of each identity, granted through a custom role bound on the bucket only.
 * Flux's gcp provider calls buckets.get before listing, which `roles/storage.objectViewer` lacks.
 * The writer can create and delete live objects; with versioning on, neither destroys a past version.
 */
export const BUCKET_PERMISSIONS: Record<BucketAccess, string[]> = {
    read: ["storage.buckets.get", "storage.objects.get", "storage.objects.list"],
    write: ["storage.buckets.get", "storage.objects.create", "storage.objects.delete", "storage.objects.get", "storage.objects.list"],
};
