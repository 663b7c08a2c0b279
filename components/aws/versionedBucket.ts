import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyPolicy } from "./policies.ts";

export interface VersionedBucketArgs {
    /** Globally unique bucket name; unset, Pulumi generates one from the resource name. */
    bucketName?: pulumi.Input<string>;
    /** Days a noncurrent version (an overwritten or deleted object) is kept before it expires. */
    noncurrentVersionDays: pulumi.Input<number>;
    /** Allow `pulumi destroy` to delete a bucket that still holds objects. */
    forceDestroy?: pulumi.Input<boolean>;
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A private, versioned, encrypted S3 bucket that only accepts TLS: versioning is what makes every upload
 * recoverable, and the lifecycle rule bounds how long old versions are kept.
 */
export class VersionedBucket extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;
    readonly bucketName: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;
    readonly region: pulumi.Output<string>;

    constructor(name: string, args: VersionedBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:VersionedBucket", name, {}, opts);
        const parent = { parent: this };

        this.bucket = new aws.s3.Bucket(name, { bucket: args.bucketName, forceDestroy: args.forceDestroy, tags: args.tags }, parent);
        const bucket = this.bucket.id;

        new aws.s3.BucketOwnershipControls(name, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
        const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
            name,
            { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            parent,
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
            parent,
        );
        const versioning = new aws.s3.BucketVersioning(name, { bucket, versioningConfiguration: { status: "Enabled" } }, parent);
        new aws.s3.BucketLifecycleConfiguration(
            name,
            {
                bucket,
                rules: [
                    {
                        id: "expire-noncurrent-versions",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
                        expiration: { expiredObjectDeleteMarker: true },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            { parent: this, dependsOn: [versioning] },
        );
        new aws.s3.BucketPolicy(
            name,
            { bucket, policy: this.bucket.arn.apply((arn) => JSON.stringify(tlsOnlyPolicy(arn))) },
            // S3 rejects a bucket policy while the public access block is still being applied.
            { parent: this, dependsOn: [publicAccessBlock] },
        );

        this.bucketName = this.bucket.bucket;
        this.arn = this.bucket.arn;
        this.region = this.bucket.region;
        this.registerOutputs({ bucketName: this.bucketName, arn: this.arn, region: this.region });
    }
}
