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
 * "Workload Identity Federation with deployment pipelines"). The claims are GitHub's job token claims, shaped as the
 * example token of GitHub's "OpenID Connect" concepts page (`repository_id` and `repository_owner_id` are strings), with
 * the subject in either form of its OpenID Connect reference: by name, or with immutable subject claims by name and id.
 */
interface Repository {
    name: string;
    id: string;
    ownerId: string;
}
const DEPLOY: Repository = { name: "acme/deploy", id: "456789", ownerId: "123456" };
/** What holds the name acme/deploy after acme/deploy was transferred away: another repository, with other ids. */
const SUCCESSOR: Repository = { name: "acme/deploy", id: "999002", ownerId: "999001" };

function claims(repository: Repository, sub: string, options: { ref?: string; immutable?: boolean; event?: string } = {}) {
    const [owner, name] = repository.name.split("/");
    const subject = options.immutable ? `repo:${owner}@${repository.ownerId}/${name}@${repository.id}` : `repo:${repository.name}`;
    return {
        jti: "example-id",
        iss: "https://token.actions.githubusercontent.com",
        aud: "https://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/pool/providers/github",
        sub: `${subject}:${sub}`,
        ref: options.ref ?? "refs/heads/main",
        sha: "example-sha",
        repository: repository.name,
        repository_owner: owner,
        repository_id: repository.id,
        repository_owner_id: repository.ownerId,
        repository_visibility: "private",
        actor: "octocat",
        actor_id: "12",
        event_name: options.event ?? "push",
        ref_type: "branch",
        runner_environment: "github-hosted",
        job_workflow_ref: `${repository.name}/.github/workflows/deploy.yml@${options.ref ?? "refs/heads/main"}`,
    };
}

describe("GitHub Actions through Workload Identity Federation (CEL as Google's STS evaluates it)", () => {
    let run: OfflineRun;
    before(async () => {
        run = await runInfra(
            { cluster: "gke", provider: "gcp", gcpProject: "acme-prod", environments: JSON.stringify(["dev", "prod"]), githubRepository: "acme/deploy", githubBranch: "release", githubRepositoryId: DEPLOY.id, githubOwnerId: DEPLOY.ownerId },
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

    const FORMS = [false, true].map((immutable) => ({ immutable, what: immutable ? "immutable subject" : "subject by name" }));

    test("pushes to the branch, in either subject form: each environment's writer (whose grants are on its managed folder)", () => {
        for (const { immutable, what } of FORMS) {
            const token = claims(DEPLOY, "ref:refs/heads/release", { ref: "refs/heads/release", immutable });
            assert.deepEqual(impersonates(token), ["fluxbucket-ci-writer", "fluxbucket-ci-writer"], what);
        }
        const environments = (run.outputs.environments ?? {}) as Record<string, { ciWriterServiceAccount: string }>;
        assert.notEqual(environments.dev.ciWriterServiceAccount, environments.prod.ciWriterServiceAccount);
    });

    test("pull requests: the read-only accounts; other branches, tags and environments are refused at the exchange", () => {
        for (const { immutable, what } of FORMS) {
            assert.deepEqual(impersonates(claims(DEPLOY, "pull_request", { ref: "refs/pull/7/merge", event: "pull_request", immutable })), ["fluxbucket-ci-reader", "fluxbucket-ci-reader"], what);
            assert.equal(impersonates(claims(DEPLOY, "ref:refs/heads/main", { immutable })), undefined, what);
            assert.equal(impersonates(claims(DEPLOY, "ref:refs/tags/release", { ref: "refs/tags/release", immutable })), undefined, what);
            assert.equal(impersonates(claims(DEPLOY, "environment:production", { immutable })), undefined, what);
        }
    });

    test("another repository's token is refused by the provider, even with a subject naming ours", () => {
        const other = { name: "acme/other", id: "456790", ownerId: DEPLOY.ownerId };
        assert.equal(impersonates(claims(other, "ref:refs/heads/release", { ref: "refs/heads/release" })), undefined);
        assert.equal(impersonates({ ...claims(other, "x"), sub: "repo:acme/deploy:ref:refs/heads/release" }), undefined);
        assert.equal(impersonates(claims({ ...other, name: "acme/deploy-fork" }, "pull_request")), undefined);
    });

    test("the repository that holds the name after a transfer (other ids) is refused, whichever subject form it presents", () => {
        for (const { immutable, what } of FORMS) {
            assert.equal(impersonates(claims(SUCCESSOR, "ref:refs/heads/release", { ref: "refs/heads/release", immutable })), undefined, what);
            assert.equal(impersonates(claims(SUCCESSOR, "pull_request", { event: "pull_request", immutable })), undefined, what);
        }
        // Even a token whose subject carries our ids is refused when its repository_id claim is another's.
        const forged = { ...claims(SUCCESSOR, "ref:refs/heads/release", { ref: "refs/heads/release" }), sub: "repo:acme@123456/deploy@456789:ref:refs/heads/release" };
        assert.equal(impersonates(forged), undefined);
    });

    test("githubSubjects immutable binds only the immutable subjects; name binds by name and checks the repository by name", async () => {
        const members = (target: OfflineRun) =>
            ofType(target, "gcp:serviceaccount/iAMMember:IAMMember")
                .map(({ inputs }) => String(inputs.member).replace(/^.*\/subject\//, ""))
                .sort();
        const base = { cluster: "gke", provider: "gcp", gcpProject: "acme-prod", githubRepository: "acme/deploy", githubEnvironment: "production" };
        const strict = await runInfra({ ...base, githubSubjects: "immutable", githubRepositoryId: DEPLOY.id, githubOwnerId: DEPLOY.ownerId });
        assert.deepEqual(members(strict), ["repo:acme@123456/deploy@456789:environment:production", "repo:acme@123456/deploy@456789:pull_request", "serviceAccount:acme-prod.svc.id.goog[flux-system/source-controller]"]);
        const byName = await runInfra({ ...base, githubSubjects: "name" });
        assert.deepEqual(members(byName), ["repo:acme/deploy:environment:production", "repo:acme/deploy:pull_request", "serviceAccount:acme-prod.svc.id.goog[flux-system/source-controller]"]);
        const condition = only(byName, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs.attributeCondition;
        assert.equal(evaluate(condition, { assertion: claims(DEPLOY, "environment:production") }), true);
        assert.equal(evaluate(condition, { assertion: claims(DEPLOY, "environment:production", { immutable: true }) }), false);
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
