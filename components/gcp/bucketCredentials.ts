import * as gcp from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";

export interface BucketCredentialsArgs {
    /** GCP project of the service account. */
    project: pulumi.Input<string>;
    /** The bucket the grants are on. */
    bucketName: pulumi.Input<string>;
    /** Service account id, 6-30 characters, unique in the project. */
    accountId: pulumi.Input<string>;
    /** The role granting the identity's permissions (see `permissions.ts`). */
    role: pulumi.Input<string>;
    /** Grant `role` on one managed folder (an environment's prefix) instead of the whole bucket. Unset: the whole bucket. */
    folder?: ManagedFolderGrant;
    /** Create a key (JSON) for the account. Default: true; false for keyless use (workload identity, CI federation). */
    key?: boolean;
    /**
     * IAM members that may impersonate the account (`roles/iam.workloadIdentityUser` on it): a GKE Kubernetes
     * service account (`serviceAccount:<project>.svc.id.goog[<namespace>/<name>]`) or a federated CI identity
     * (`principal://iam.googleapis.com/<pool>/subject/<sub>`).
     */
    impersonatedBy?: pulumi.Input<string>[];
}

/** A grant on one managed folder: GCS then also needs the bucket's metadata (storage.buckets.get) granted on the bucket. */
export interface ManagedFolderGrant {
    /** The managed folder, e.g. `prod/`. */
    managedFolder: pulumi.Input<string>;
    /** A role holding only storage.buckets.get, granted on the bucket. */
    bucketRole: pulumi.Input<string>;
}

/**
 * A service account holding `role` on this bucket only (no project-wide grant), or on one managed folder of it (an
 * environment that can list and read nothing outside its prefix), with a key, or impersonated by workload identities.
 */
export class BucketCredentials extends pulumi.ComponentResource {
    readonly serviceAccount: gcp.serviceaccount.Account;
    readonly email: pulumi.Output<string>;
    /** The key file's JSON, which Flux reads from the `serviceaccount` Secret key; unset without a key. */
    readonly serviceAccountKey?: pulumi.Output<string>;

    constructor(name: string, args: BucketCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:BucketCredentials", name, {}, opts);
        const parent = { parent: this };

        this.serviceAccount = new gcp.serviceaccount.Account(
            name,
            { project: args.project, accountId: args.accountId, displayName: pulumi.interpolate`flux-bucket ${name} of ${args.bucketName}` },
            parent,
        );
        const member = pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`;
        const grants: pulumi.Resource[] = [];
        if (args.folder === undefined) {
            grants.push(new gcp.storage.BucketIAMMember(name, { bucket: args.bucketName, role: args.role, member }, parent));
        } else {
            const { managedFolder, bucketRole } = args.folder;
            grants.push(
                new gcp.storage.ManagedFolderIamMember(name, { bucket: args.bucketName, managedFolder, role: args.role, member }, parent),
                new gcp.storage.BucketIAMMember(`${name}-bucket`, { bucket: args.bucketName, role: bucketRole, member }, parent),
                new gcp.storage.BucketIAMMember(
                    `${name}-sourceignore`,
                    {
                        bucket: args.bucketName,
                        role: "roles/storage.objectViewer",
                        member,
                        // A list request is checked against the bucket, so this grants reading one object, nothing more.
                        condition: {
                            title: "root .sourceignore only",
                            expression: pulumi.interpolate`resource.name == "projects/_/buckets/${args.bucketName}/objects/${SOURCEIGNORE}"`,
                        },
                    },
                    parent,
                ),
            );
        }
        // Whatever authenticates as the account (a key, an impersonation) is created after its grants, so that it
        // never exists with fewer rights than it will have.
        (args.impersonatedBy ?? []).forEach((impersonator, i) => {
            new gcp.serviceaccount.IAMMember(
                `${name}-impersonator${i === 0 ? "" : `-${i}`}`,
                { serviceAccountId: this.serviceAccount.name, role: "roles/iam.workloadIdentityUser", member: impersonator },
                { parent: this, dependsOn: grants },
            );
        });
        if (args.key !== false) {
            const key = new gcp.serviceaccount.Key(name, { serviceAccountId: this.serviceAccount.name }, { parent: this, dependsOn: grants });
            this.serviceAccountKey = pulumi.secret(key.privateKey.apply((encoded) => Buffer.from(encoded, "base64").toString("utf8")));
        }

        this.email = this.serviceAccount.email;
        this.registerOutputs({ email: this.email, serviceAccountKey: this.serviceAccountKey });
    }
}
