// @pulumi/aws's s3 classes that the aws components use, from their own modules (../sdk.ts says why).
export { Bucket } from "@pulumi/aws/s3/bucket.js";
export { BucketLifecycleConfiguration } from "@pulumi/aws/s3/bucketLifecycleConfiguration.js";
export { BucketObjectv2 } from "@pulumi/aws/s3/bucketObjectv2.js";
export { BucketOwnershipControls } from "@pulumi/aws/s3/bucketOwnershipControls.js";
export { BucketPolicy } from "@pulumi/aws/s3/bucketPolicy.js";
export { BucketPublicAccessBlock } from "@pulumi/aws/s3/bucketPublicAccessBlock.js";
export { BucketServerSideEncryptionConfiguration } from "@pulumi/aws/s3/bucketServerSideEncryptionConfiguration.js";
export { BucketVersioning } from "@pulumi/aws/s3/bucketVersioning.js";
