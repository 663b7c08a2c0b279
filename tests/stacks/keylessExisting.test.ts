import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { OfflineRun } from "../../src/offline/engine.ts";
import { validateObjects } from "../../src/validate/index.ts";
import { evaluate } from "../support/cel.ts";
import { bucketCredentials, type ClusterKind, type FluxOnCluster, type TokenExchange } from "../support/fluxAuth.ts";
import { asStackReference, ofType, only, runFlux, runInfra } from "../support/offline.ts";
import { assumeRoleWithWebIdentity } from "../support/webIdentity.ts";

/**
 * Keyless reading on a cluster this project did not create (`cluster: existing`), end to end: the infra stack's trust,
 * the flux stack's objects, and what source-controller v1.8.5 does with them on that cluster (tests/support/fluxAuth.ts,
 * from fluxcd/pkg auth/v0.38.5), up to the cloud's decision (IAM's evaluation of the trust policy; Google's STS mapping
 * and the impersonation binding).
 */
const RELEASE = "kubernetes:helm.sh/v3:Release";
const BUCKET = "kubernetes:source.toolkit.fluxcd.io/v1:Bucket";
const KUBECONFIG = "apiVersion: v1\nkind: Config\n";
const EKS_ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
/** A kind/k3d cluster whose service account issuer is published (e.g. on S3) and registered as an IAM OIDC provider. */
const KIND_ISSUER = "acme-oidc.s3.eu-west-1.amazonaws.com/kind-1";
const providerArn = (issuer: string) => `arn:aws:iam::123456789012:oidc-provider/${issuer}`;
/** A Workload Identity Federation provider that trusts a kind cluster's issuer (Google's "Workload Identity Federation with Kubernetes"). */
const WIF_PROVIDER = "projects/123456789/locations/global/workloadIdentityPools/kind-pool/providers/kind";

/** What the flux stack put on the cluster, as source-controller sees it. */
function onCluster(flux: OfflineRun, environmentStack?: OfflineRun): FluxOnCluster {
    const installer = environmentStack ?? flux;
    const values = only(installer, RELEASE).inputs.values.sourceController;
    const bucket = only(flux, BUCKET).inputs;
    const bindings = ofType(flux, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").filter(({ inputs }) =>
        inputs.subjects.some((subject: { name: string }) => subject.name === "source-controller"),
    );
    const roles = ofType(flux, "kubernetes:rbac.authorization.k8s.io/v1:Role").filter(({ inputs }) =>
        bindings.some((binding) => binding.inputs.roleRef.name === inputs.metadata.name),
    );
    return {
        controller: { serviceAccount: { namespace: "flux-system", name: "source-controller", annotations: values.serviceAccount.annotations }, args: values.container.additionalArgs },
        serviceAccounts: ofType(flux, "kubernetes:core/v1:ServiceAccount").map(({ inputs }) => ({
            namespace: inputs.metadata.namespace,
            name: inputs.metadata.name,
            annotations: inputs.metadata.annotations ?? {},
        })),
        tokenGrants: roles.flatMap(({ inputs }) =>
            inputs.rules.filter((rule: { resources: string[]; verbs: string[] }) => rule.resources.includes("serviceaccounts/token") && rule.verbs.includes("create")).flatMap((rule: { resourceNames: string[] }) => rule.resourceNames),
        ),
        bucket: { namespace: bucket.metadata.namespace, spec: bucket.spec },
    };
}

/** AWS's answer to the exchange: STS checks the role's trust policy against the token the controller presented. */
function awsDecision(infra: OfflineRun, role: string, issuer: string, exchange: TokenExchange | { error: string }, controllerToken?: { sub: string; aud: string }): string {
    assert.ok("cloud" in exchange && exchange.cloud === "aws", JSON.stringify(exchange));
    const token = exchange.token === "controller" ? controllerToken! : exchange.token;
    return assumeRoleWithWebIdentity(JSON.parse(only(infra, "aws:iam/role:Role", role).inputs.assumeRolePolicy), exchange.roleArn, { issuer, ...token });
}

describe("existing cluster, aws: the reader works where the cluster can give source-controller its identity", () => {
    test("an EKS issuer: source-controller's own service account, annotated (the pod identity webhook does the rest)", async () => {
        const infra = await runInfra({ cluster: "existing", kubeconfig: KUBECONFIG, provider: "aws", clusterOidcProvider: providerArn(EKS_ISSUER) });
        const flux = await runFlux({}, asStackReference(infra));
        assert.equal(infra.outputs.readerKubernetesServiceAccount, "flux-system/source-controller");
        const exchange = bucketCredentials({ kind: "eks", region: "eu-west-1" }, onCluster(flux));
        assert.deepEqual(exchange, { cloud: "aws", roleArn: infra.outputs.readerRoleArn, region: "eu-west-1", token: "controller" });
        // The webhook projects a token of the pod's service account with audience sts.amazonaws.com.
        assert.equal(awsDecision(infra, "bucket-reader", EKS_ISSUER, exchange, { sub: "system:serviceaccount:flux-system:source-controller", aud: "sts.amazonaws.com" }), "Allowed");
        // The same objects on a cluster without the webhook: Flux could not read.
        assert.match((bucketCredentials({ kind: "other" }, onCluster(flux)) as { error: string }).error, /no AWS credentials in source-controller's pod/);
    });

    test("any other issuer (kind, k3d): object-level, a flux-bucket service account whose token source-controller exchanges itself", async () => {
        const infra = await runInfra({ cluster: "existing", kubeconfig: KUBECONFIG, provider: "aws", clusterOidcProvider: providerArn(KIND_ISSUER) });
        assert.equal(infra.outputs.readerKubernetesServiceAccount, "flux-system/flux-bucket");
        const flux = await runFlux({}, asStackReference(infra));
        const cluster = onCluster(flux);
        assert.deepEqual(cluster.controller.serviceAccount.annotations, {}, "nothing on source-controller's own account");
        assert.deepEqual(cluster.controller.args, ["--feature-gates=ObjectLevelWorkloadIdentity=true"]);
        assert.deepEqual(cluster.serviceAccounts, [{ namespace: "flux-system", name: "flux-bucket", annotations: { "eks.amazonaws.com/role-arn": infra.outputs.readerRoleArn } }]);
        const exchange = bucketCredentials({ kind: "other" }, cluster);
        assert.deepEqual(exchange, {
            cloud: "aws",
            roleArn: infra.outputs.readerRoleArn,
            region: "eu-west-1",
            token: { sub: "system:serviceaccount:flux-system:flux-bucket", aud: "sts.amazonaws.com" },
        });
        assert.equal(awsDecision(infra, "bucket-reader", KIND_ISSUER, exchange), "Allowed");
        // Another service account of that cluster, or source-controller's own token, is not trusted.
        const role = only(infra, "aws:iam/role:Role", "bucket-reader");
        for (const sub of ["system:serviceaccount:flux-system:source-controller", "system:serviceaccount:default:flux-bucket"]) {
            assert.equal(assumeRoleWithWebIdentity(JSON.parse(role.inputs.assumeRolePolicy), String(infra.outputs.readerRoleArn), { issuer: KIND_ISSUER, sub, aud: "sts.amazonaws.com" }), "ImplicitlyDenied", sub);
        }
        // Without the feature gate (another stack installed Flux without it), Flux says so.
        assert.match((bucketCredentials({ kind: "other" }, { ...cluster, controller: { ...cluster.controller, args: [] } }) as { error: string }).error, /ObjectLevelWorkloadIdentity feature gate/);
        await validateObjects([only(flux, BUCKET).inputs, only(flux, "kubernetes:core/v1:ServiceAccount").inputs].map((object) => ({ file: "stacks/flux.ts", object })));
    });

    test("environments on any issuer are object-level already: each its own service account", async () => {
        const infra = await runInfra(
            { cluster: "existing", kubeconfig: KUBECONFIG, provider: "aws", clusterOidcProvider: providerArn(KIND_ISSUER), environments: JSON.stringify(["dev"]) },
            "fleet",
        );
        const dev = await runFlux({ environment: "dev" }, asStackReference(infra), { stack: "fleet-flux", infraStack: "organization/flux-bucket/fleet" });
        const exchange = bucketCredentials({ kind: "other" }, onCluster(dev));
        assert.deepEqual("cloud" in exchange && exchange.token, { sub: "system:serviceaccount:flux-system:flux-bucket-dev", aud: "sts.amazonaws.com" });
        assert.equal(awsDecision(infra, "bucket-dev-reader", KIND_ISSUER, exchange), "Allowed");
        assert.equal(awsDecision(infra, "bucket-dev-reader", KIND_ISSUER, { ...(exchange as TokenExchange), token: { sub: "system:serviceaccount:flux-system:flux-bucket", aud: "sts.amazonaws.com" } }), "ImplicitlyDenied");
    });
});

describe("existing cluster, gcp: a GKE workload pool, or outside GKE a Workload Identity Federation provider", () => {
    /** Google's STS and IAM: the provider maps google.subject from the token (as Google's Kubernetes setup does), the principal needs roles/iam.workloadIdentityUser on the account. */
    function googleDecision(infra: OfflineRun, exchange: TokenExchange | { error: string }): boolean {
        assert.ok("cloud" in exchange && exchange.cloud === "gcp" && exchange.token !== "controller", JSON.stringify(exchange));
        const provider = exchange.audience.replace("//iam.googleapis.com/", "");
        const subject = evaluate("assertion.sub", { assertion: exchange.token });
        const principal = `principal://iam.googleapis.com/${provider.replace(/\/providers\/[^/]+$/, "")}/subject/${subject}`;
        return ofType(infra, "gcp:serviceaccount/iAMMember:IAMMember").some(
            ({ inputs }) => inputs.role === "roles/iam.workloadIdentityUser" && inputs.member === principal && String(inputs.serviceAccountId).endsWith(`/${exchange.impersonate}`),
        );
    }

    test("outside GKE: flux-bucket carries the provider annotation Flux exchanges at, and only its token may impersonate the reader", async () => {
        const infra = await runInfra({ cluster: "existing", kubeconfig: KUBECONFIG, provider: "gcp", gcpProject: "acme-prod", clusterWorkloadPool: WIF_PROVIDER });
        assert.equal(infra.outputs.auth, "workload-identity");
        assert.equal(infra.outputs.readerWorkloadIdentityProvider, WIF_PROVIDER);
        assert.equal(infra.outputs.readerKubernetesServiceAccount, "flux-system/flux-bucket");
        assert.deepEqual(ofType(infra, "gcp:serviceaccount/iAMMember:IAMMember").map(({ inputs }) => inputs.member), [
            "principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/kind-pool/subject/system:serviceaccount:flux-system:flux-bucket",
        ]);
        const flux = await runFlux({}, asStackReference(infra));
        const cluster = onCluster(flux);
        assert.deepEqual(cluster.serviceAccounts[0].annotations, {
            "iam.gke.io/gcp-service-account": infra.outputs.readerServiceAccount,
            "gcp.auth.fluxcd.io/workload-identity-provider": WIF_PROVIDER,
        });
        const exchange = bucketCredentials({ kind: "other" }, cluster);
        assert.deepEqual(exchange, {
            cloud: "gcp",
            audience: `//iam.googleapis.com/${WIF_PROVIDER}`,
            impersonate: infra.outputs.readerServiceAccount,
            token: { sub: "system:serviceaccount:flux-system:flux-bucket", aud: `//iam.googleapis.com/${WIF_PROVIDER}` },
        });
        assert.equal(googleDecision(infra, exchange), true);
        const sourceController = { sub: "system:serviceaccount:flux-system:source-controller", aud: `//iam.googleapis.com/${WIF_PROVIDER}` };
        assert.equal(googleDecision(infra, { ...(exchange as TokenExchange), token: sourceController }), false);
        // Without the provider annotation Flux would ask GKE's metadata server, which is not there.
        const bare = { ...cluster, serviceAccounts: [{ ...cluster.serviceAccounts[0], annotations: { "iam.gke.io/gcp-service-account": String(infra.outputs.readerServiceAccount) } }] };
        assert.match((bucketCredentials({ kind: "other" }, bare) as { error: string }).error, /GKE metadata server/);
    });

    test("outside GKE with environments: each environment's account, its token exchanged at the same provider", async () => {
        const infra = await runInfra(
            { cluster: "existing", kubeconfig: KUBECONFIG, provider: "gcp", gcpProject: "acme-prod", clusterWorkloadPool: WIF_PROVIDER, environments: JSON.stringify(["dev", "prod"]) },
            "fleet",
        );
        const prod = await runFlux({ environment: "prod" }, asStackReference(infra), { stack: "fleet-flux", infraStack: "organization/flux-bucket/fleet" });
        const exchange = bucketCredentials({ kind: "other" }, onCluster(prod));
        assert.deepEqual("cloud" in exchange && exchange.token, { sub: "system:serviceaccount:flux-system:flux-bucket-prod", aud: `//iam.googleapis.com/${WIF_PROVIDER}` });
        assert.equal(googleDecision(infra, exchange), true);
        const dev = (infra.outputs.environments as Record<string, { readerServiceAccount: string }>).dev.readerServiceAccount;
        assert.equal(googleDecision(infra, { ...(exchange as Extract<TokenExchange, { cloud: "gcp" }>), impersonate: dev }), false, "prod's token may not impersonate dev's reader");
    });

    test("a GKE workload pool: source-controller's own account, which the same objects could not use outside GKE", async () => {
        const infra = await runInfra({ cluster: "existing", kubeconfig: KUBECONFIG, provider: "gcp", gcpProject: "acme-prod", clusterWorkloadPool: "acme-ops.svc.id.goog" });
        assert.equal(infra.outputs.readerWorkloadIdentityProvider, undefined);
        const flux = await runFlux({}, asStackReference(infra));
        const gke: ClusterKind = { kind: "gke", workloadPool: "acme-ops.svc.id.goog" };
        assert.deepEqual(bucketCredentials(gke, onCluster(flux)), { cloud: "gcp", audience: "acme-ops.svc.id.goog", impersonate: infra.outputs.readerServiceAccount, token: "controller" });
        assert.deepEqual(bucketCredentials({ kind: "other" }, onCluster(flux)), { error: "google: could not find default credentials" });
    });

    test("clusterWorkloadPool takes only those two shapes", async () => {
        await assert.rejects(runInfra({ cluster: "existing", kubeconfig: KUBECONFIG, provider: "gcp", gcpProject: "acme-prod", clusterWorkloadPool: "projects/acme/locations/global/workloadIdentityPools/kind-pool" }), (error: { problems: string[] }) => {
            assert.match(error.problems[0], /flux-bucket:clusterWorkloadPool is ".*"; allowed: a GKE workload pool <project>\.svc\.id\.goog .* projects\/<project number>\/locations\/global\/workloadIdentityPools\/<pool>\/providers\/<provider>$/);
            return true;
        });
    });
});
