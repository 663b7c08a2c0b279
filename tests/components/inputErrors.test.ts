import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { BucketCredentials, BucketRole, FluxBucket as AwsFluxBucket } from "../../components/aws/index.ts";
import { GithubWorkloadIdentityPool } from "../../components/gcp/index.ts";
import { BucketSync, FluxInstall, type FluxRelease } from "../../components/flux/index.ts";
import { runComponents } from "../support/offline.ts";

/** The InputPropertyError a component throws, before it registers any child. */
async function refused(create: () => void): Promise<{ propertyPath: string; reason: string; children: number }> {
    let error: unknown;
    const run = await runComponents(() => {
        try {
            create();
        } catch (caught) {
            error = caught;
        }
    });
    assert.ok(pulumi.InputPropertyError.isInstance(error), `expected an InputPropertyError, got ${error}`);
    const { propertyPath, reason } = error as pulumi.InputPropertyError;
    return { propertyPath, reason, children: run.resources.filter((resource) => resource.custom).length };
}

test("components refuse bad arguments with InputPropertyError, naming the argument and what is allowed", async () => {
    const missingIds =
        `is missing: subjects "both" include GitHub's immutable ones (repo:OWNER@OWNER_ID/REPO@REPO_ID:…), which need the repository's and its ` +
        `owner's ids (gh api repos/OWNER/REPO --jq '.id, .owner.id'); or trust subjects by "name" only`;
    const github = { repository: "acme/deploy", branch: "main" };
    assert.deepEqual(
        await refused(() => new AwsFluxBucket("bucket", { noncurrentVersionDays: 30, githubActions: { ...github, oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" } })),
        { propertyPath: "githubActions.ids", reason: missingIds, children: 0 },
    );
    assert.deepEqual(await refused(() => new GithubWorkloadIdentityPool("github", { project: "acme-prod", poolId: "fluxbucket-gh", trust: github })), {
        propertyPath: "trust.ids",
        reason: missingIds,
        children: 0,
    });
    assert.deepEqual(
        await refused(() => new BucketCredentials("flux", { bucketArn: "arn:aws:s3:::b", access: "read", prefix: "./prod" })),
        { propertyPath: "prefix", reason: '"./prod" is not a normalized prefix: give it as normalizePrefix() returns it, e.g. "prod/", or leave it unset for the whole bucket', children: 0 },
    );
    assert.deepEqual(
        await refused(() => new FluxInstall("flux", { namespace: "flux-system", chartVersion: "2.18.3", fluxRelease: "2.9.0" as FluxRelease })),
        { propertyPath: "fluxRelease", reason: '"2.9.0"; allowed: 2.8.5, 2.8.8', children: 0 },
    );
    const bucket = { provider: "aws", bucketName: "b", endpoint: "s3.amazonaws.com", interval: "1m" } as const;
    const kustomization = { path: "./clusters/dev", prune: true, interval: "10m" };
    assert.deepEqual(
        await refused(() => new BucketSync("s", { namespace: "flux-system", bucket, kustomization: { ...kustomization, path: "../elsewhere" } })),
        { propertyPath: "kustomization.path", reason: '"../elsewhere" leaves the bucket; give a path from its root such as ./clusters/dev', children: 0 },
    );
    assert.deepEqual(
        await refused(() => new BucketSync("s", { namespace: "flux-system", bucket, kustomization, credentials: { serviceAccountKey: "{}" } })),
        { propertyPath: "credentials", reason: "Flux's aws Bucket provider reads accesskey + secretkey from its Secret, not serviceaccount", children: 0 },
    );
    const serviceAccount = { name: "flux-bucket-dev", annotations: {} };
    assert.deepEqual(
        await refused(() => new BucketSync("s", { namespace: "flux-system", bucket, kustomization, serviceAccount, credentials: { accessKey: "a", secretKey: "b" } })),
        {
            propertyPath: "serviceAccount",
            reason: "cannot be set together with credentials: a Bucket reads either with a Secret or as a service account (Flux's CRD refuses both)",
            children: 0,
        },
    );
    assert.deepEqual(
        await refused(() => new BucketSync("s", { namespace: "flux-system", bucket: { ...bucket, provider: "generic" }, kustomization, serviceAccount })),
        { propertyPath: "serviceAccount", reason: "is not supported for the generic provider; allowed: aws, gcp, azure", children: 0 },
    );
    const trust = { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", audience: "sts.amazonaws.com" };
    assert.deepEqual(
        await refused(() => new BucketRole("ci", { bucketArn: "arn:aws:s3:::b", access: "write", trust: { ...trust, subjects: [] } })),
        { propertyPath: "trust.subjects", reason: "is empty; name at least one token subject the role trusts", children: 0 },
    );
    assert.deepEqual(
        await refused(() => new BucketRole("ci", { bucketArn: "arn:aws:s3:::b", access: "write", prefix: "prod", trust: { ...trust, subjects: ["repo:acme/deploy:pull_request"] } })),
        { propertyPath: "prefix", reason: '"prod" is not a normalized prefix: give it as normalizePrefix() returns it, e.g. "prod/", or leave it unset for the whole bucket', children: 0 },
    );
});
