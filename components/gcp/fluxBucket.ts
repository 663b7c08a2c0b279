import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { type Environment, type EnvironmentIdentities, SOURCEIGNORE_CONTENT } from "../environments.ts";
import { BucketCredentials } from "./bucketCredentials.ts";
import { BUCKET_METADATA_PERMISSIONS, BUCKET_PERMISSIONS, type BucketAccess, OBJECT_PERMISSIONS } from "./permissions.ts";
import { VersionedBucket, type VersionedBucketArgs } from "./versionedBucket.ts";

export interface FluxBucketArgs extends VersionedBucketArgs {
    /**
     * Environments sharing the bucket: each gets a managed folder on its prefix and a reader and a writer granted
     * on that folder only. Unset: one reader and one writer for the whole bucket.
     */
    environments?: Environment[];
}

export type EnvironmentCredentials = EnvironmentIdentities<BucketCredentials>;

/** The GCS endpoint Flux's Bucket needs in `spec.endpoint` (required by the CRD even for gcp). */
export const GCS_ENDPOINT = "storage.googleapis.com";

const ROLE_NAMES: Record<BucketAccess, string> = { read: "reader", write: "writer" };

/**
 * Role and service account ids are project-wide, so they are derived from the (globally unique) bucket name and
 * the prefix: several stacks can share a project, and account ids stay within GCP's 30 characters.
 */
const digest = (...parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 8);

/**
 * The GCP side of BucketOps: the versioned bucket, a read-only service account for Flux and a writer for uploads,
 * for the whole bucket or, with `environments`, a pair per environment limited to its managed folder.
 */
export class FluxBucket extends pulumi.ComponentResource {
    readonly bucket: VersionedBucket;
    /** Whole-bucket identities; unset when the bucket is split into environments. */
    readonly reader?: BucketCredentials;
    readonly writer?: BucketCredentials;
    readonly environments: Record<string, EnvironmentCredentials> = {};
    readonly bucketName: pulumi.Output<string>;
    readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: FluxBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:FluxBucket", name, {}, opts);
        const parent = { parent: this };
        const { environments, ...bucketArgs } = args;
        const { project } = args;

        this.bucket = new VersionedBucket(name, bucketArgs, parent);
        const bucketName = this.bucket.bucketName;
        const role = (suffix: string, permissions: string[]) =>
            new gcp.projects.IAMCustomRole(
                `${name}-${suffix}`,
                {
                    project,
                    roleId: bucketName.apply((bucket) => `fluxbucket.${suffix}.${digest(bucket)}`),
                    title: pulumi.interpolate`flux-bucket ${suffix} of ${bucketName}`,
                    permissions,
                },
                parent,
            ).name;
        const accountId = (access: BucketAccess, prefix = "") =>
            bucketName.apply((bucket) => `fluxbucket-${ROLE_NAMES[access]}-${digest(bucket, prefix)}`);

        if (environments === undefined) {
            const roles = { read: role("reader", BUCKET_PERMISSIONS.read), write: role("writer", BUCKET_PERMISSIONS.write) };
            const identity = (access: BucketAccess) =>
                new BucketCredentials(`${name}-${ROLE_NAMES[access]}`, { project, bucketName, accountId: accountId(access), role: roles[access] }, parent);
            this.reader = identity("read");
            this.writer = identity("write");
        } else {
            const roles = { read: role("reader", OBJECT_PERMISSIONS.read), write: role("writer", OBJECT_PERMISSIONS.write) };
            const bucketRole = role("bucket", BUCKET_METADATA_PERMISSIONS);
            new gcp.storage.BucketObject(
                `${name}-sourceignore`,
                { bucket: bucketName, name: SOURCEIGNORE, content: SOURCEIGNORE_CONTENT, contentType: "text/plain" },
                parent,
            );
            for (const { name: environment, prefix } of environments) {
                // The API refuses to delete a folder that still holds objects (or IAM policy) unless asked (allowNonEmpty):
                // without forceDestroy here too, `pulumi destroy` would stop at the folders before it reached the bucket.
                const folder = new gcp.storage.ManagedFolder(
                    `${name}-${environment}`,
                    { bucket: bucketName, name: prefix, forceDestroy: args.forceDestroy },
                    parent,
                );
                const identity = (access: BucketAccess) =>
                    new BucketCredentials(
                        `${name}-${environment}-${ROLE_NAMES[access]}`,
                        { project, bucketName, accountId: accountId(access, prefix), role: roles[access], folder: { managedFolder: folder.name, bucketRole } },
                        parent,
                    );
                this.environments[environment] = { prefix, reader: identity("read"), writer: identity("write") };
            }
        }

        this.bucketName = bucketName;
        this.endpoint = pulumi.output(GCS_ENDPOINT);
        this.registerOutputs({ bucketName: this.bucketName, endpoint: this.endpoint });
    }
}
