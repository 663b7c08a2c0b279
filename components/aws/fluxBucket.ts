import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { type Environment, type EnvironmentIdentities, SOURCEIGNORE_CONTENT } from "../environments.ts";
import { BucketCredentials } from "./bucketCredentials.ts";
import { VersionedBucket, type VersionedBucketArgs } from "./versionedBucket.ts";

export interface FluxBucketArgs extends VersionedBucketArgs {
    /** Environments sharing the bucket, each with a reader and a writer scoped to its prefix. Unset: one of each for the whole bucket. */
    environments?: Environment[];
}

export type EnvironmentCredentials = EnvironmentIdentities<BucketCredentials>;

/**
 * The AWS side of BucketOps: the versioned bucket, a read-only identity for Flux and a writer for uploads,
 * either for the whole bucket or, with `environments`, a pair per environment limited to its prefix.
 */
export class FluxBucket extends pulumi.ComponentResource {
    readonly bucket: VersionedBucket;
    /** Whole-bucket identities; unset when the bucket is split into environments. */
    readonly reader?: BucketCredentials;
    readonly writer?: BucketCredentials;
    readonly environments: Record<string, EnvironmentCredentials> = {};
    readonly bucketName: pulumi.Output<string>;
    readonly region: pulumi.Output<string>;
    /** What Flux's Bucket `spec.endpoint` takes: the regional S3 host, no scheme. */
    readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: FluxBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:FluxBucket", name, {}, opts);
        const parent = { parent: this };
        const { environments, ...bucketArgs } = args;

        this.bucket = new VersionedBucket(name, bucketArgs, parent);
        const identity = (suffix: string, access: "read" | "write", prefix?: string) =>
            new BucketCredentials(`${name}-${suffix}`, { bucketArn: this.bucket.arn, access, prefix, tags: args.tags }, parent);

        if (environments === undefined) {
            this.reader = identity("reader", "read");
            this.writer = identity("writer", "write");
        } else {
            new aws.s3.BucketObjectv2(
                `${name}-sourceignore`,
                { bucket: this.bucket.bucketName, key: SOURCEIGNORE, content: SOURCEIGNORE_CONTENT, contentType: "text/plain" },
                { parent: this, dependsOn: [this.bucket.configured] },
            );
            for (const { name: environment, prefix } of environments) {
                this.environments[environment] = {
                    prefix,
                    reader: identity(`${environment}-reader`, "read", prefix),
                    writer: identity(`${environment}-writer`, "write", prefix),
                };
            }
        }

        this.bucketName = this.bucket.bucketName;
        this.region = this.bucket.region;
        this.endpoint = pulumi.interpolate`s3.${this.region}.amazonaws.com`;
        this.registerOutputs({ bucketName: this.bucketName, region: this.region, endpoint: this.endpoint });
    }
}
