import * as aws from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { checkPrefix } from "../environments.ts";
import { type BucketAccess, accessPolicy, oidcIssuerOf, webIdentityTrustPolicy } from "./policies.ts";

/** Which OIDC tokens may assume the role. */
export interface WebIdentityTrust {
    /** ARN of the IAM OIDC provider of the token's issuer (an EKS cluster's, or GitHub Actions'). */
    oidcProviderArn: pulumi.Input<string>;
    /** The token's `aud`, e.g. `sts.amazonaws.com`. */
    audience: string;
    /** The token `sub` claims allowed, exactly (e.g. `system:serviceaccount:flux-system:source-controller`). */
    subjects: string[];
}

export interface BucketRoleArgs {
    /** ARN of the bucket the policy allows. */
    bucketArn: pulumi.Input<string>;
    /** `read` for Flux and pull-request diffs, `write` for uploads. */
    access: BucketAccess;
    /** Limit the role to the keys under this prefix (normalized, e.g. `prod/`): an environment. Unset: the whole bucket. */
    prefix?: string;
    /** An environment's writer: the prefixes of the environments it promotes from, which it may read (accessPolicy). */
    readsFrom?: string[];
    /** Who may assume it. */
    trust: WebIdentityTrust;
    /** IAM path of the role. Default: `/flux-bucket/`. */
    path?: pulumi.Input<string>;
    /** Tags on the role. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * An IAM role allowed exactly the bucket actions of its access level (on a prefix, if given), assumable only with
 * an OIDC token of one issuer, audience and subject: keyless access for Flux (IRSA) or CI (GitHub Actions).
 */
export class BucketRole extends pulumi.ComponentResource {
    readonly role: aws.iam.Role;
    readonly roleArn: pulumi.Output<string>;
    readonly policy: pulumi.Output<string>;
    readonly trustPolicy: pulumi.Output<string>;

    constructor(name: string, args: BucketRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:BucketRole", name, {}, opts);
        checkPrefix(args.prefix);
        if (args.trust.subjects.length === 0) {
            throw new pulumi.InputPropertyError({ propertyPath: "trust.subjects", reason: "is empty; name at least one token subject the role trusts" });
        }
        const parent = { parent: this };
        const { oidcProviderArn, audience, subjects } = args.trust;

        this.trustPolicy = pulumi
            .output(oidcProviderArn)
            .apply((arn) => JSON.stringify(webIdentityTrustPolicy(arn, oidcIssuerOf(arn), audience, subjects)));
        this.role = new aws.iam.Role(name, { path: args.path ?? "/flux-bucket/", assumeRolePolicy: this.trustPolicy, tags: args.tags }, parent);
        this.policy = pulumi.output(args.bucketArn).apply((arn) => JSON.stringify(accessPolicy(arn, args.access, args.prefix, args.readsFrom)));
        const policy = new aws.iam.RolePolicy(name, { role: this.role.name, policy: this.policy }, parent);

        // Whoever reads roleArn may assume the role at once: hand it on only once it has its rights.
        this.roleArn = pulumi.all([this.role.arn, policy.id]).apply(([arn]) => arn);
        this.registerOutputs({ roleArn: this.roleArn, policy: this.policy, trustPolicy: this.trustPolicy });
    }
}
