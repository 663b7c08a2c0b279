import * as aws from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyPolicy } from "./policies.ts";

export interface VersionedBucketArgs {
    /** Globally unique bucket name; unset, Pulumi generates one from the resource name. */
    bucketName?: pulumi.Input<string>;
    /** Days a noncurrent version (an overwritten or deleted object) is kept before it expires. */
    noncurrentVersionDays: pulumi.Input<number>;
    /** Allow `pulumi destroy` to delete a bucket that still holds objects. */
    forceDestroy?: pulumi.Input<boolean>;
    /** Tags on the bucket. */
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
    /** The last configuration call on the bucket: objects written after it land in a versioned, locked-down bucket. */
    readonly configured: pulumi.Resource;

    constructor(name: string, args: VersionedBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:VersionedBucket", name, {}, opts);
        const parent = { parent: this };

        this.bucket = new aws.s3.Bucket(name, { bucket: args.bucketName, forceDestroy: args.forceDestroy, tags: args.tags }, parent);
        const bucket = this.bucket.id;

        // S3 refuses a configuration change while another one on the same bucket is in progress (409
        // OperationAborted: "A conflicting conditional operation is currently in progress"), so each call waits for
        // the one before it: one configuration call on the bucket at a time. The lifecycle rule also needs
        // versioning, and the bucket policy a settled public access block.
        let previous: pulumi.Resource = this.bucket;
        const next = <T extends pulumi.Resource>(create: (opts: pulumi.CustomResourceOptions) => T): T => {
            previous = create({ parent: this, dependsOn: [previous] });
            return previous as T;
        };
        next((opts) => new aws.s3.BucketOwnershipControls(name, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts));
        next(
            (opts) =>
                new aws.s3.BucketPublicAccessBlock(
                    name,
                    { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
                    opts,
                ),
        );
        next(
            (opts) =>
                new aws.s3.BucketServerSideEncryptionConfiguration(
                    name,
                    { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
                    opts,
                ),
        );
        next((opts) => new aws.s3.BucketVersioning(name, { bucket, versioningConfiguration: { status: "Enabled" } }, opts));
        next(
            (opts) =>
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
                    opts,
                ),
        );
        this.configured = next(
            (opts) => new aws.s3.BucketPolicy(name, { bucket, policy: this.bucket.arn.apply((arn) => JSON.stringify(tlsOnlyPolicy(arn))) }, opts),
        );

        this.bucketName = this.bucket.bucket;
        this.arn = this.bucket.arn;
        this.region = this.bucket.region;
        this.registerOutputs({ bucketName: this.bucketName, arn: this.arn, region: this.region });
    }
}
