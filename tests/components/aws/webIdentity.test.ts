import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { only, runInfra } from "../../support/offline.ts";
import { assumeRoleWithWebIdentity, providerOf, type WebIdentityToken } from "../../support/webIdentity.ts";

/**
 * The trust policies the infra stack writes, decided by IAM's evaluation logic on the tokens that really arrive: a
 * projected service account token of the EKS cluster (iss: the cluster's issuer, sub
 * `system:serviceaccount:<namespace>:<name>`, aud `sts.amazonaws.com` as source-controller and the EKS webhook ask) and
 * GitHub Actions' job tokens (sub `repo:<owner>/<repo>:ref:refs/heads/<branch>`, `:environment:<name>` or
 * `:pull_request`, or with immutable subject claims `repo:<owner>@<owner id>/<repo>@<repository id>:…`; aud
 * `sts.amazonaws.com` as aws-actions/configure-aws-credentials asks; GitHub's OpenID Connect reference, "Example
 * subject claims" and "Immutable subject claims"). IAM sets only `<issuer>:sub` and `:aud` from a GitHub token (no
 * repository_id key: "Available keys for AWS OIDC federation"), so the ids count only through the subject.
 */
const GITHUB = "token.actions.githubusercontent.com";
const STS = "sts.amazonaws.com";
/** acme/deploy's ids, and those of a repository that took the name after acme/deploy was transferred away. */
const IDS = { githubRepositoryId: "456789", githubOwnerId: "123456" };
const immutable = (owner: string, repository: string) => `acme@${owner}/${repository}`;

describe("who may assume the roles (sts:AssumeRoleWithWebIdentity, IAM's evaluation)", () => {
    let eks: OfflineRun;
    let fleet: OfflineRun;
    let strict: OfflineRun;
    let byName: OfflineRun;
    let cluster: string;
    before(async () => {
        strict = await runInfra({ cluster: "eks", provider: "aws", githubRepository: "acme/deploy", githubSubjects: "immutable", ...IDS }, "eks-dev");
        byName = await runInfra({ cluster: "eks", provider: "aws", githubRepository: "acme/deploy", githubSubjects: "name" }, "eks-dev");
        eks = await runInfra({ cluster: "eks", provider: "aws", githubRepository: "acme/deploy", ...IDS }, "eks-dev");
        fleet = await runInfra(
            { cluster: "eks", provider: "aws", environments: JSON.stringify(["dev", "prod"]), githubRepository: "acme/deploy", githubEnvironment: "production", ...IDS },
            "fleet",
        );
        cluster = only(eks, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster").inputs.url.replace(/^https:\/\//, "");
    });

    const decide = (run: OfflineRun, role: string, token: WebIdentityToken) => {
        const resource = only(run, "aws:iam/role:Role", role);
        return assumeRoleWithWebIdentity(JSON.parse(resource.inputs.assumeRolePolicy), `arn:aws:iam::123456789012:role/flux-bucket/${role}`, token);
    };
    const kubernetes = (issuer: string, namespace: string, name: string, aud = STS): WebIdentityToken => ({ issuer, sub: `system:serviceaccount:${namespace}:${name}`, aud });
    const github = (sub: string, aud = STS): WebIdentityToken => ({ issuer: GITHUB, sub: `repo:${sub}`, aud });

    test("Flux's reader: source-controller of this cluster, and nothing else", () => {
        assert.equal(decide(eks, "bucket-reader", kubernetes(cluster, "flux-system", "source-controller")), "Allowed");
        const denied: [string, WebIdentityToken][] = [
            ["another namespace", kubernetes(cluster, "default", "source-controller")],
            ["another service account of Flux", kubernetes(cluster, "flux-system", "kustomize-controller")],
            ["another audience", kubernetes(cluster, "flux-system", "source-controller", "https://kubernetes.default.svc")],
            ["another cluster's token for the same service account", kubernetes("oidc.eks.eu-west-1.amazonaws.com/id/0THERC1USTER", "flux-system", "source-controller")],
            ["a GitHub job claiming the same subject", { issuer: GITHUB, sub: "system:serviceaccount:flux-system:source-controller", aud: STS }],
        ];
        for (const [what, token] of denied) assert.equal(decide(eks, "bucket-reader", token), "ImplicitlyDenied", what);
    });

    test("an environment's reader: its own service account only, not another environment's or source-controller", () => {
        const fleetCluster = only(fleet, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster").inputs.url.replace(/^https:\/\//, "");
        assert.equal(decide(fleet, "bucket-dev-reader", kubernetes(fleetCluster, "flux-system", "flux-bucket-dev")), "Allowed");
        assert.equal(decide(fleet, "bucket-dev-reader", kubernetes(fleetCluster, "flux-system", "flux-bucket-prod")), "ImplicitlyDenied");
        assert.equal(decide(fleet, "bucket-dev-reader", kubernetes(fleetCluster, "flux-system", "source-controller")), "ImplicitlyDenied");
        assert.equal(decide(fleet, "bucket-prod-reader", kubernetes(fleetCluster, "flux-system", "flux-bucket-prod")), "Allowed");
    });

    test("CI's writer: pushes to the repository's branch, in either subject form; not another branch, repository, pull request or audience", () => {
        for (const repository of ["acme/deploy", immutable("123456", "deploy@456789")]) {
            assert.equal(decide(eks, "bucket-ci-writer", github(`${repository}:ref:refs/heads/main`)), "Allowed", repository);
            for (const sub of ["ref:refs/heads/feature", "ref:refs/tags/main", "pull_request", "environment:production"]) {
                assert.equal(decide(eks, "bucket-ci-writer", github(`${repository}:${sub}`)), "ImplicitlyDenied", `${repository}:${sub}`);
            }
            assert.equal(decide(eks, "bucket-ci-writer", github(`${repository}:ref:refs/heads/main`, "sigstore")), "ImplicitlyDenied");
        }
        assert.equal(decide(eks, "bucket-ci-writer", github("acme/other:ref:refs/heads/main")), "ImplicitlyDenied");
        assert.equal(decide(eks, "bucket-ci-writer", github(`${immutable("123456", "other@456790")}:ref:refs/heads/main`)), "ImplicitlyDenied");
        assert.equal(decide(eks, "bucket-ci-writer", { issuer: cluster, sub: "repo:acme/deploy:ref:refs/heads/main", aud: STS }), "ImplicitlyDenied");
    });

    test("a repository that took the name after a transfer (other ids) is refused: its subjects are immutable ones with its own ids", () => {
        // GitHub gives a repository created, renamed or transferred from 2026-07-15 on immutable subjects: the name's
        // new holder (another owner account named acme, or a new acme/deploy) presents other ids.
        for (const repository of [immutable("999001", "deploy@456789"), immutable("123456", "deploy@999002"), immutable("999001", "deploy@999002")]) {
            assert.equal(decide(eks, "bucket-ci-writer", github(`${repository}:ref:refs/heads/main`)), "ImplicitlyDenied", repository);
            assert.equal(decide(eks, "bucket-ci-reader", github(`${repository}:pull_request`)), "ImplicitlyDenied", repository);
        }
        // Without ids in the subject, IAM cannot tell two holders of a name apart: with subjects "immutable" the name form is refused too.
        assert.equal(decide(strict, "bucket-ci-writer", github(`${immutable("123456", "deploy@456789")}:ref:refs/heads/main`)), "Allowed");
        assert.equal(decide(strict, "bucket-ci-writer", github("acme/deploy:ref:refs/heads/main")), "ImplicitlyDenied");
        assert.equal(decide(byName, "bucket-ci-writer", github("acme/deploy:ref:refs/heads/main")), "Allowed");
        assert.equal(decide(byName, "bucket-ci-writer", github(`${immutable("123456", "deploy@456789")}:ref:refs/heads/main`)), "ImplicitlyDenied");
    });

    test("CI's reader: the repository's pull requests (bucketops diff); its writer is not theirs", () => {
        for (const repository of ["acme/deploy", immutable("123456", "deploy@456789")]) {
            assert.equal(decide(eks, "bucket-ci-reader", github(`${repository}:pull_request`)), "Allowed");
            assert.equal(decide(eks, "bucket-ci-writer", github(`${repository}:pull_request`)), "ImplicitlyDenied");
        }
        assert.equal(decide(eks, "bucket-ci-reader", github("acme/other:pull_request")), "ImplicitlyDenied");
    });

    test("with a GitHub environment, each environment's CI writer trusts jobs of that environment, whatever the branch", () => {
        for (const environment of ["dev", "prod"]) {
            const role = `bucket-${environment}-ci-writer`;
            for (const repository of ["acme/deploy", immutable("123456", "deploy@456789")]) {
                assert.equal(decide(fleet, role, github(`${repository}:environment:production`)), "Allowed");
                assert.equal(decide(fleet, role, github(`${repository}:environment:staging`)), "ImplicitlyDenied");
                assert.equal(decide(fleet, role, github(`${repository}:ref:refs/heads/main`)), "ImplicitlyDenied");
            }
        }
    });

    test("the evaluator itself: the GitHub provider the roles trust is the one the stack created", () => {
        const trust = JSON.parse(only(eks, "aws:iam/role:Role", "bucket-ci-writer").inputs.assumeRolePolicy);
        assert.equal(trust.Statement[0].Principal.Federated, providerOf(GITHUB));
        assert.equal(only(eks, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github").inputs.url, `https://${GITHUB}`);
    });
});
