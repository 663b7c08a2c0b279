// @pulumi/gcp's storage classes that the gcp components use, from their own modules (../sdk.ts says why).
export { Bucket } from "@pulumi/gcp/storage/bucket.js";
export { BucketIAMMember } from "@pulumi/gcp/storage/bucketIAMMember.js";
export { BucketObject } from "@pulumi/gcp/storage/bucketObject.js";
export { ManagedFolder } from "@pulumi/gcp/storage/managedFolder.js";
export { ManagedFolderIamMember } from "@pulumi/gcp/storage/managedFolderIamMember.js";
