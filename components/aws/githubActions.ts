import * as aws from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { AWS_STS_AUDIENCE, GITHUB_OIDC_ISSUER } from "../../src/bucket/identity.ts";

/**
 * The IAM OIDC provider for GitHub Actions' tokens, with `sts.amazonaws.com` as the allowed client id (the audience
 * aws-actions/configure-aws-credentials asks for). An account has at most one per issuer: where one exists, pass
 * its ARN to FluxBucket's `githubActions` instead of creating this. No thumbprint: IAM verifies GitHub's
 * certificate against its own trusted CAs (the aws provider's `thumbprintList` documentation).
 */
export class GithubOidcProvider extends pulumi.ComponentResource {
    readonly provider: aws.iam.OpenIdConnectProvider;
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: { tags?: pulumi.Input<Record<string, pulumi.Input<string>>> } = {}, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:GithubOidcProvider", name, {}, opts);
        this.provider = new aws.iam.OpenIdConnectProvider(
            name,
            { url: `https://${GITHUB_OIDC_ISSUER}`, clientIdLists: [AWS_STS_AUDIENCE], tags: args.tags },
            { parent: this },
        );
        this.arn = this.provider.arn;
        this.registerOutputs({ arn: this.arn });
    }
}
