import * as pulumi from "@pulumi/pulumi";
import { BucketCredentials } from "./bucketCredentials";
import { VersionedBucket, VersionedBucketArgs } from "./versionedBucket";

export type FluxBucketArgs = VersionedBucketArgs;

/** The AWS side of BucketOps: the versioned bucket, a read-only identity for Flux and a writer for uploads. */
export class FluxBucket extends pulumi.ComponentResource {
    readonly bucket: VersionedBucket;
    readonly reader: BucketCredentials;
    readonly writer: BucketCredentials;
    readonly bucketName: pulumi.Output<string>;
    readonly region: pulumi.Output<string>;
    /** What Flux's Bucket `spec.endpoint` takes: the regional S3 host, no scheme. */
    readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: FluxBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:FluxBucket", name, {}, opts);
        const parent = { parent: this };

        this.bucket = new VersionedBucket(name, args, parent);
        this.reader = new BucketCredentials(`${name}-reader`, { bucketArn: this.bucket.arn, access: "read", tags: args.tags }, parent);
        this.writer = new BucketCredentials(`${name}-writer`, { bucketArn: this.bucket.arn, access: "write", tags: args.tags }, parent);

        this.bucketName = this.bucket.bucketName;
        this.region = this.bucket.region;
        this.endpoint = pulumi.interpolate`s3.${this.region}.amazonaws.com`;
        this.registerOutputs({ bucketName: this.bucketName, region: this.region, endpoint: this.endpoint });
    }
}
