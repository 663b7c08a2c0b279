import * as gcp from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { GITHUB_OIDC_ISSUER, type GithubTrust, githubSubjects, githubTrustProblem } from "../../src/bucket/identity.ts";

export interface GithubWorkloadIdentityPoolArgs {
    project: pulumi.Input<string>;
    /** Pool id, 4-32 characters, unique in the project (a deleted pool's id stays taken for 30 days). */
    poolId: pulumi.Input<string>;
    /** The repository (by ids, or by name) and the branch or environment whose jobs may write: the provider refuses every other token. */
    trust: GithubTrust;
}

/**
 * The provider's attribute condition (Google requires one for GitHub, or any repository on GitHub could authenticate):
 * the repository by its immutable ids (`repository_id`, `repository_owner_id`: a repository of the same name under
 * another account, after a transfer or a deletion, has other ids), or by name where no ids are given, and only the
 * subjects some account is bound to (the writer's ref or environment, and pull requests, in each accepted form), so a
 * token no binding would accept is refused at the exchange already.
 */
export function githubAttributeCondition(trust: GithubTrust): string {
    const { writer, reader } = githubSubjects(trust);
    const repository = trust.ids
        ? `assertion.repository_id == ${JSON.stringify(trust.ids.repository)} && assertion.repository_owner_id == ${JSON.stringify(trust.ids.owner)}`
        : `assertion.repository == ${JSON.stringify(trust.repository)}`;
    return `${repository} && assertion.sub in ${JSON.stringify([...writer, ...reader])}`;
}

/**
 * A Workload Identity Federation pool and its GitHub Actions OIDC provider, accepting tokens of one repository only.
 * Which job may impersonate which service account is bound per subject (`principal://iam.googleapis.com/<pool
 * name>/subject/<sub>`) on the account: FluxBucket's `githubActions`.
 */
export class GithubWorkloadIdentityPool extends pulumi.ComponentResource {
    readonly pool: gcp.iam.WorkloadIdentityPool;
    readonly provider: gcp.iam.WorkloadIdentityPoolProvider;
    /** `projects/<number>/locations/global/workloadIdentityPools/<id>`. */
    readonly poolName: pulumi.Output<string>;
    /** `projects/<number>/locations/global/workloadIdentityPools/<id>/providers/github`: google-github-actions/auth's `workload_identity_provider`. */
    readonly providerName: pulumi.Output<string>;

    constructor(name: string, args: GithubWorkloadIdentityPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:GithubWorkloadIdentityPool", name, {}, opts);
        const trustProblem = githubTrustProblem(args.trust);
        if (trustProblem) throw new pulumi.InputPropertyError({ propertyPath: "trust.ids", reason: trustProblem });
        this.pool = new gcp.iam.WorkloadIdentityPool(
            name,
            { project: args.project, workloadIdentityPoolId: args.poolId, displayName: "flux-bucket GitHub Actions" },
            { parent: this },
        );
        this.provider = new gcp.iam.WorkloadIdentityPoolProvider(
            name,
            {
                project: args.project,
                workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
                workloadIdentityPoolProviderId: "github",
                attributeMapping: {
                    "google.subject": "assertion.sub",
                    "attribute.repository": "assertion.repository",
                    "attribute.repository_id": "assertion.repository_id",
                    "attribute.repository_owner_id": "assertion.repository_owner_id",
                    "attribute.ref": "assertion.ref",
                },
                attributeCondition: githubAttributeCondition(args.trust),
                oidc: { issuerUri: `https://${GITHUB_OIDC_ISSUER}` },
            },
            { parent: this },
        );
        this.poolName = this.pool.name;
        this.providerName = this.provider.name;
        this.registerOutputs({ poolName: this.poolName, providerName: this.providerName });
    }
}
