import * as gcp from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { type Environment, type EnvironmentIdentities, promotionSources, SOURCEIGNORE_CONTENT } from "../environments.ts";
import { type GithubTrust, gcpKubernetesMember, githubSubjects, githubTrustProblem, readerServiceAccount } from "../../src/bucket/identity.ts";
import { BucketCredentials, type ManagedFolderGrant } from "./bucketCredentials.ts";
import { BUCKET_METADATA_PERMISSIONS, BUCKET_PERMISSIONS, type BucketAccess, OBJECT_PERMISSIONS } from "./permissions.ts";
import { VersionedBucket, type VersionedBucketArgs } from "./versionedBucket.ts";

export interface FluxBucketArgs extends VersionedBucketArgs {
    /**
     * Environments sharing the bucket: each gets a managed folder on its prefix and a reader and a writer granted
     * on that folder only. Unset: one reader and one writer for the whole bucket.
     */
    environments?: Environment[];
    /**
     * Flux reads with workload identity instead of a key: each reader service account may be impersonated only by its
     * Kubernetes service account (`readerServiceAccount` in src/bucket/identity.ts: source-controller, or one per
     * environment) in this workload pool: a GKE cluster's (`<cluster project>.svc.id.goog`), or for a cluster outside
     * GKE the Workload Identity Federation provider that trusts its issuer
     * (`projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`, with `objectLevel`: the
     * whole bucket's reader then trusts `flux-bucket`, whose tokens source-controller exchanges there itself).
     * No key is created. Unset: keys for Flux and for uploads.
     */
    workloadIdentity?: { workloadPool: pulumi.Input<string>; namespace: string; objectLevel?: boolean };
    /**
     * A writer for pushes and a read-only account for pull requests, impersonated by GitHub Actions jobs of one
     * repository through this Workload Identity Federation pool (its full name, `projects/<number>/locations/global/workloadIdentityPools/<id>`).
     */
    githubActions?: GithubTrust & { workloadIdentityPool: pulumi.Input<string> };
}

export type EnvironmentCredentials = EnvironmentIdentities<BucketCredentials>;

/** The GCS endpoint Flux's Bucket needs in `spec.endpoint` (required by the CRD even for gcp). */
export const GCS_ENDPOINT = "storage.googleapis.com";

const ROLE_NAMES: Record<BucketAccess, string> = { read: "reader", write: "writer" };
/** CI's accounts: GCP account ids are at most 30 characters, `fluxbucket-ci-writer-<8 hex>` is 29. */
const CI_NAMES: Record<BucketAccess, string> = { read: "ci-reader", write: "ci-writer" };

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
    /** The key-based writer; unset with workload identity. */
    readonly writer?: BucketCredentials;
    /** GitHub Actions' writer and pull-request reader, for the whole bucket. */
    readonly ci?: { writer: BucketCredentials; reader: BucketCredentials };
    readonly environments: Record<string, EnvironmentCredentials> = {};
    readonly bucketName: pulumi.Output<string>;
    readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: FluxBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:FluxBucket", name, {}, opts);
        const parent = { parent: this };
        const { environments, workloadIdentity, githubActions, ...bucketArgs } = args;
        const trustProblem = githubActions && githubTrustProblem(githubActions);
        if (trustProblem) throw new pulumi.InputPropertyError({ propertyPath: "githubActions.ids", reason: trustProblem });
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
        const accountId = (kind: string, prefix = "") => bucketName.apply((bucket) => `fluxbucket-${kind}-${digest(bucket, prefix)}`);
        const github = githubActions && githubSubjects(githubActions);
        const federated = (subjects: string[]) => subjects.map((subject) => pulumi.interpolate`principal://iam.googleapis.com/${githubActions!.workloadIdentityPool}/subject/${subject}`);
        /** The custom roles of each access level, created only for an access some identity has (keyless without CI: no writer). */
        const customRoles = (permissions: Record<BucketAccess, string[]>) => {
            const created: Partial<Record<BucketAccess, pulumi.Output<string>>> = {};
            return (access: BucketAccess) => (created[access] ??= role(ROLE_NAMES[access], permissions[access]));
        };
        /** Flux's reader, the key-based writer and CI's accounts of the whole bucket or an environment. */
        const identities = (roleOf: (access: BucketAccess) => pulumi.Input<string>, environment?: string, prefix?: string, folder?: ManagedFolderGrant) => {
            const suffix = environment === undefined ? "" : `${environment}-`;
            const account = (kind: string, access: BucketAccess, keyless?: { impersonatedBy: pulumi.Input<string>[] }) =>
                new BucketCredentials(
                    `${name}-${suffix}${kind}`,
                    { project, bucketName, accountId: accountId(kind, prefix), role: roleOf(access), folder, key: !keyless, impersonatedBy: keyless?.impersonatedBy },
                    parent,
                );
            const kubernetes = workloadIdentity && readerServiceAccount(workloadIdentity.namespace, environment, workloadIdentity.objectLevel);
            return {
                reader: account(
                    ROLE_NAMES.read,
                    "read",
                    kubernetes && { impersonatedBy: [pulumi.output(workloadIdentity!.workloadPool).apply((pool) => gcpKubernetesMember(pool, kubernetes))] },
                ),
                writer: workloadIdentity ? undefined : account(ROLE_NAMES.write, "write"),
                ci: github && {
                    writer: account(CI_NAMES.write, "write", { impersonatedBy: federated(github.writer) }),
                    reader: account(CI_NAMES.read, "read", { impersonatedBy: federated(github.reader) }),
                },
            };
        };

        if (environments === undefined) {
            ({ reader: this.reader, writer: this.writer, ci: this.ci } = identities(customRoles(BUCKET_PERMISSIONS)));
        } else {
            const roles = customRoles(OBJECT_PERMISSIONS);
            const bucketRole = role("bucket", BUCKET_METADATA_PERMISSIONS);
            new gcp.storage.BucketObject(
                `${name}-sourceignore`,
                { bucket: bucketName, name: SOURCEIGNORE, content: SOURCEIGNORE_CONTENT, contentType: "text/plain" },
                parent,
            );
            const folders: Record<string, gcp.storage.ManagedFolder> = {};
            for (const { name: environment, prefix } of environments) {
                // The API refuses to delete a folder that still holds objects (or IAM policy) unless asked (allowNonEmpty):
                // without forceDestroy here too, `pulumi destroy` would stop at the folders before it reached the bucket.
                const folder = new gcp.storage.ManagedFolder(
                    `${name}-${environment}`,
                    { bucket: bucketName, name: prefix, forceDestroy: args.forceDestroy },
                    parent,
                );
                folders[environment] = folder;
                this.environments[environment] = { prefix, ...identities(roles, environment, prefix, { managedFolder: folder.name, bucketRole }) };
            }
            // `bucketops promote`: an environment's writers read (list, get generations, copy from) the folders of the
            // environments it promotes from, with the reader's role there: never a write.
            for (const environment of environments) {
                promotionSources(environment, environments); // checks the names
                const { writer, ci } = this.environments[environment.name];
                for (const source of environment.promotesFrom ?? []) {
                    for (const [kind, account] of [["writer", writer], ["ci-writer", ci?.writer]] as const) {
                        if (!account) continue;
                        new gcp.storage.ManagedFolderIamMember(
                            `${name}-${environment.name}-${kind}-reads-${source}`,
                            { bucket: bucketName, managedFolder: folders[source].name, role: roles("read"), member: pulumi.interpolate`serviceAccount:${account.email}` },
                            parent,
                        );
                    }
                }
            }
        }

        this.bucketName = bucketName;
        this.endpoint = pulumi.output(GCS_ENDPOINT);
        this.registerOutputs({ bucketName: this.bucketName, endpoint: this.endpoint });
    }
}
