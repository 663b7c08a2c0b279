import * as pulumi from "@pulumi/pulumi";
import { BucketCredentials } from "./bucketCredentials";
import { VersionedBucket, VersionedBucketArgs } from "./versionedBucket";

export type FluxBucketArgs = VersionedBucketArgs;

/** The GCS endpoint Flux's Bucket needs in `spec.endpoint` (required by the CRD even for gcp). */
export const GCS_ENDPOINT = "storage.googleapis.com";

/** The GCP side of BucketOps: the versioned bucket, a read-only service account for Flux and a writer for uploads. */
export class FluxBucket extends pulumi.ComponentResource {
    readonly bucket: VersionedBucket;
    readonly reader: BucketCredentials;
    readonly writer: BucketCredentials;
    readonly bucketName: pulumi.Output<string>;
    readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: FluxBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:FluxBucket", name, {}, opts);
        const parent = { parent: this };

        this.bucket = new VersionedBucket(name, args, parent);
        const access = { project: args.project, bucketName: this.bucket.bucketName };
        this.reader = new BucketCredentials(`${name}-reader`, { ...access, access: "read" }, parent);
        this.writer = new BucketCredentials(`${name}-writer`, { ...access, access: "write" }, parent);

        this.bucketName = this.bucket.bucketName;
        this.endpoint = pulumi.output(GCS_ENDPOINT);
        this.registerOutputs({ bucketName: this.bucketName, endpoint: this.endpoint });
    }
}
