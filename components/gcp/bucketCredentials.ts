import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { BUCKET_PERMISSIONS, BucketAccess } from "./permissions";

export interface BucketCredentialsArgs {
    project: pulumi.Input<string>;
    bucketName: pulumi.Input<string>;
    /** `read` for Flux, `write` for uploads. */
    access: BucketAccess;
}

const ROLE_NAMES: Record<BucketAccess, string> = { read: "reader", write: "writer" };

/**
 * Service account and role ids are project-wide, so they are derived from the (globally unique) bucket name:
 * several stacks can share a project, and the ids fit GCP's limits (30 characters for accounts).
 */
function ids(bucketName: string, access: BucketAccess): { accountId: string; roleId: string } {
    const digest = createHash("sha256").update(bucketName).digest("hex").slice(0, 8);
    return { accountId: `fluxbucket-${ROLE_NAMES[access]}-${digest}`, roleId: `fluxbucket.${ROLE_NAMES[access]}.${digest}` };
}

/**
 * A service account and key holding exactly the bucket permissions of its access level, through a custom role
 * bound on this bucket only (no project-wide grant).
 */
export class BucketCredentials extends pulumi.ComponentResource {
    readonly serviceAccount: gcp.serviceaccount.Account;
    readonly role: gcp.projects.IAMCustomRole;
    readonly email: pulumi.Output<string>;
    /** The key file's JSON, which Flux reads from the `serviceaccount` Secret key. */
    readonly serviceAccountKey: pulumi.Output<string>;

    constructor(name: string, args: BucketCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:BucketCredentials", name, {}, opts);
        const parent = { parent: this };
        const derived = pulumi.output(args.bucketName).apply((bucket) => ids(bucket, args.access));

        this.role = new gcp.projects.IAMCustomRole(
            name,
            {
                project: args.project,
                roleId: derived.roleId,
                title: pulumi.interpolate`flux-bucket ${ROLE_NAMES[args.access]} of ${args.bucketName}`,
                permissions: BUCKET_PERMISSIONS[args.access],
            },
            parent,
        );
        this.serviceAccount = new gcp.serviceaccount.Account(
            name,
            {
                project: args.project,
                accountId: derived.accountId,
                displayName: pulumi.interpolate`flux-bucket ${ROLE_NAMES[args.access]} of ${args.bucketName}`,
            },
            parent,
        );
        const binding = new gcp.storage.BucketIAMMember(
            name,
            { bucket: args.bucketName, role: this.role.name, member: pulumi.interpolate`serviceAccount:${this.serviceAccount.email}` },
            parent,
        );
        const key = new gcp.serviceaccount.Key(name, { serviceAccountId: this.serviceAccount.name }, { parent: this, dependsOn: [binding] });

        this.email = this.serviceAccount.email;
        this.serviceAccountKey = pulumi.secret(key.privateKey.apply((encoded) => Buffer.from(encoded, "base64").toString("utf8")));
        this.registerOutputs({ email: this.email, serviceAccountKey: this.serviceAccountKey });
    }
}
