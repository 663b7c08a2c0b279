import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { evaluate } from "../../support/cel.ts";
import { ofType, only, runInfra } from "../../support/offline.ts";

/**
 * Which GitHub Actions job may impersonate which service account, as Google's STS and IAM decide: the provider's
 * attribute condition (CEL over the token's claims, `assertion`) must be true, its attribute mapping (CEL) gives
 * `google.subject`, and the job is then the principal `principal://iam.googleapis.com/<pool>/subject/<google.subject>`,
 * which may impersonate a service account only where it holds roles/iam.workloadIdentityUser on it (Google Cloud's
 * "Workload Identity Federation with deployment pipelines"). The claims are GitHub's job token claims.
 */
const claims = (repository: string, sub: string, ref = "refs/heads/main") => ({
    iss: "https://token.actions.githubusercontent.com",
    aud: "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/pool/providers/github",
    repository,
    repository_owner: repository.split("/")[0],
    ref,
    sub: `repo:${repository}:${sub}`,
});

describe("GitHub Actions through Workload Identity Federation (CEL as Google's STS evaluates it)", () => {
    let run: OfflineRun;
    before(async () => {
        run = await runInfra(
            { cluster: "gke", provider: "gcp", gcpProject: "acme-prod", environments: JSON.stringify(["dev", "prod"]), githubRepository: "acme/deploy", githubBranch: "release" },
            "gke-fleet",
        );
    });

    /** The service accounts a job with these claims may impersonate; undefined when the provider refuses its token. */
    function impersonates(token: Record<string, string>): string[] | undefined {
        const provider = only(run, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs;
        if (evaluate(provider.attributeCondition, { assertion: token }) !== true) return undefined;
        const subject = evaluate(provider.attributeMapping["google.subject"], { assertion: token });
        const pool = String(run.outputs.ciWorkloadIdentityProvider).replace(/\/providers\/[^/]+$/, "");
        const principal = `principal://iam.googleapis.com/${pool}/subject/${subject}`;
        return ofType(run, "gcp:serviceaccount/iAMMember:IAMMember")
            .filter(({ inputs }) => inputs.role === "roles/iam.workloadIdentityUser" && inputs.member === principal)
            .map(({ inputs }) => String(inputs.serviceAccountId).split("/").pop()!.split("@")[0].replace(/-[0-9a-f]{8}$/, ""))
            .sort();
    }

    test("pushes to the branch: each environment's writer (whose grants are on its managed folder)", () => {
        assert.deepEqual(impersonates(claims("acme/deploy", "ref:refs/heads/release", "refs/heads/release")), ["fluxbucket-ci-writer", "fluxbucket-ci-writer"]);
        const environments = (run.outputs.environments ?? {}) as Record<string, { ciWriterServiceAccount: string }>;
        assert.notEqual(environments.dev.ciWriterServiceAccount, environments.prod.ciWriterServiceAccount);
    });

    test("pull requests: the read-only accounts; other branches, tags and environments are refused at the exchange", () => {
        assert.deepEqual(impersonates(claims("acme/deploy", "pull_request", "refs/pull/7/merge")), ["fluxbucket-ci-reader", "fluxbucket-ci-reader"]);
        assert.equal(impersonates(claims("acme/deploy", "ref:refs/heads/main")), undefined);
        assert.equal(impersonates(claims("acme/deploy", "ref:refs/tags/release", "refs/tags/release")), undefined);
        assert.equal(impersonates(claims("acme/deploy", "environment:production")), undefined);
    });

    test("another repository's token is refused by the provider, even with a subject naming ours", () => {
        assert.equal(impersonates(claims("acme/other", "ref:refs/heads/release", "refs/heads/release")), undefined);
        assert.equal(impersonates({ ...claims("acme/other", "x"), sub: "repo:acme/deploy:ref:refs/heads/release" }), undefined);
        assert.equal(impersonates(claims("acme/deploy-fork", "pull_request")), undefined);
    });

    test("keyless reading on an existing cluster: its workload pool's source-controller, per environment its own account", async () => {
        const existing = await runInfra({
            cluster: "existing",
            kubeconfig: "apiVersion: v1\nkind: Config\n",
            provider: "gcp",
            gcpProject: "acme-prod",
            clusterWorkloadPool: "acme-ops.svc.id.goog",
            environments: JSON.stringify(["dev"]),
        });
        assert.deepEqual(
            ofType(existing, "gcp:serviceaccount/iAMMember:IAMMember").map(({ inputs }) => inputs.member),
            ["serviceAccount:acme-ops.svc.id.goog[flux-system/flux-bucket-dev]"],
        );
        assert.equal(ofType(existing, "gcp:serviceaccount/key:Key").length, 0);
        // No writer without keys or CI: no writer account, and no writer role either.
        assert.deepEqual(ofType(existing, "gcp:projects/iAMCustomRole:IAMCustomRole").map(({ name }) => name).sort(), ["bucket-bucket", "bucket-reader"]);
        assert.deepEqual(ofType(existing, "gcp:serviceaccount/account:Account").map(({ name }) => name), ["bucket-dev-reader"]);
    });
});
