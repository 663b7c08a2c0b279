import * as gcp from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";

export interface VersionedBucketArgs {
    /** GCP project of the bucket. */
    project: pulumi.Input<string>;
    /** GCS location: a multi-region (EU), dual-region or region (europe-west1). */
    location: pulumi.Input<string>;
    /** Globally unique bucket name; unset, Pulumi generates one from the resource name. */
    bucketName?: pulumi.Input<string>;
    /** Days a noncurrent version (an overwritten or deleted object) is kept before it is deleted. */
    noncurrentVersionDays: pulumi.Input<number>;
    /** Allow `pulumi destroy` to delete a bucket that still holds objects. Default: false. */
    forceDestroy?: pulumi.Input<boolean>;
    /** Labels on the bucket. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** A private GCS bucket with object versioning, uniform bucket-level access and public access prevention enforced. */
export class VersionedBucket extends pulumi.ComponentResource {
    readonly bucket: gcp.storage.Bucket;
    readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: VersionedBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:VersionedBucket", name, {}, opts);

        this.bucket = new gcp.storage.Bucket(
            name,
            {
                name: args.bucketName,
                project: args.project,
                location: args.location,
                versioning: { enabled: true },
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                forceDestroy: args.forceDestroy,
                labels: args.labels,
                lifecycleRules: [
                    {
                        action: { type: "Delete" },
                        condition: { withState: "ARCHIVED", daysSinceNoncurrentTime: args.noncurrentVersionDays },
                    },
                ],
            },
            { parent: this },
        );

        this.bucketName = this.bucket.name;
        this.registerOutputs({ bucketName: this.bucketName });
    }
}
