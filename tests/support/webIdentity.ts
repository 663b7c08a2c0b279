import { createValidatedPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { runUnsafeSimulation } from "@cloud-copilot/iam-simulate";

/**
 * AWS's decision on `sts:AssumeRoleWithWebIdentity`, so that trust policies are tested on the tokens a cluster or
 * GitHub Actions really presents. STS checks the token against the IAM OIDC provider of its issuer (the request's
 * principal, `Federated` in a trust policy) and sets the condition keys `<issuer>:aud` and `<issuer>:sub` from its
 * claims (IAM User Guide, "Available keys for AWS OIDC federation"); IAM's evaluation logic is
 * @cloud-copilot/iam-simulate's. Its validating entry point drops context keys the Service Authorization Reference
 * does not list for the action, and the reference lists no `sub` or `aud` for an EKS issuer (nor for GitHub's), so the
 * unvalidated one runs here, with exactly the keys STS sets.
 */
export interface WebIdentityToken {
    /** The issuer's host and path, as IAM names it (`oidc.eks.<region>.amazonaws.com/id/<id>`, `token.actions.githubusercontent.com`). */
    issuer: string;
    sub: string;
    aud: string;
}

export const ACCOUNT = "123456789012";

/** The IAM OIDC provider STS matches a token's issuer to. */
export const providerOf = (issuer: string) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}`;

export function assumeRoleWithWebIdentity(trustPolicy: object, roleArn: string, token: WebIdentityToken): string {
    const policy = createValidatedPolicy(trustPolicy, validateTrustPolicy, { name: "trust" });
    if (policy.errors.length > 0) throw new Error(`invalid trust policy: ${JSON.stringify(policy.errors)}`);
    return runUnsafeSimulation(
        {
            identityPolicies: [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            // The typed options want a parsed policy; a validated one carries its name, which the unvalidated path reads.
            resourcePolicy: policy as never,
            request: {
                action: "sts:AssumeRoleWithWebIdentity",
                principal: providerOf(token.issuer),
                resource: { accountId: ACCOUNT, resource: roleArn },
                contextVariables: { [`${token.issuer}:sub`]: token.sub, [`${token.issuer}:aud`]: token.aud },
            },
        } as never,
        {} as never,
    );
}
