import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse } from "yaml";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { PROVIDERS } from "../../src/bucket/providers.ts";
import type { OfflineRun } from "../../src/offline/engine.ts";
import { OFFLINE_PROJECT_NUMBER, autoName } from "../../src/offline/fakeState.ts";
import { validateObjects } from "../../src/validate/index.ts";
import type { ConfigError } from "../../stacks/config/errors.ts";
import { asStackReference, ofType, only, runFlux, runInfra } from "../support/offline.ts";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const BUCKET = "kubernetes:source.toolkit.fluxcd.io/v1:Bucket";
const EKS = { cluster: "eks", provider: "aws", region: "eu-west-1", kubernetesVersion: "1.33" };
const GKE = { cluster: "gke", provider: "gcp", gcpProject: "acme-prod", gkeLocation: "europe-west1-b" };
/** acme/deploy and its owner's immutable ids (`gh api repos/acme/deploy --jq .id`, `--jq .owner.id`). */
const GITHUB = { githubRepository: "acme/deploy", githubRepositoryId: "456789", githubOwnerId: "123456" };

/** Every resource that holds or makes a long-lived key, and every Secret: none may exist on the keyless path. */
const KEY_TYPES = ["aws:iam/user:User", "aws:iam/accessKey:AccessKey", "aws:iam/userPolicy:UserPolicy", "gcp:serviceaccount/key:Key", "kubernetes:core/v1:Secret"];
const keyResources = (run: OfflineRun) => run.resources.filter((resource) => KEY_TYPES.includes(resource.type)).map((resource) => `${resource.type} ${resource.name}`);

const trustOf = (run: OfflineRun, name: string) => JSON.parse(only(run, "aws:iam/role:Role", name).inputs.assumeRolePolicy);

async function rejectsWith(run: Promise<unknown>, problems: string[]) {
    await assert.rejects(run, (error: ConfigError) => {
        assert.deepEqual(error.problems, problems);
        return true;
    });
}

describe("eks: Flux reads with IRSA, no key anywhere", () => {
    let infra: OfflineRun;
    let flux: OfflineRun;
    before(async () => {
        infra = await runInfra({ ...EKS, bucketName: "acme-manifests", ...GITHUB }, "eks-dev");
        flux = await runFlux({}, asStackReference(infra), { stack: "eks-dev-flux", infraStack: "organization/flux-bucket/eks-dev" });
    });

    test("an EKS cluster with a managed node group in the default VPC, its OIDC provider for sts.amazonaws.com", () => {
        const cluster = only(infra, "aws:eks/cluster:Cluster");
        assert.equal(cluster.inputs.version, "1.33");
        assert.deepEqual(cluster.inputs.accessConfig, { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true });
        const subnets = ["subnet-0ff1ine0000000a", "subnet-0ff1ine0000000b", "subnet-0ff1ine0000000c"];
        assert.deepEqual(cluster.inputs.vpcConfig.subnetIds, subnets);
        const nodes = only(infra, "aws:eks/nodeGroup:NodeGroup").inputs;
        assert.deepEqual([nodes.instanceTypes, nodes.scalingConfig, nodes.subnetIds], [["t3.medium"], { desiredSize: 2, minSize: 2, maxSize: 2 }, subnets]);
        const issuer = only(infra, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster").inputs;
        assert.match(issuer.url, /^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
        assert.deepEqual(issuer.clientIdLists, ["sts.amazonaws.com"]);
        const kubeconfig = parse(String(infra.outputs.kubeconfig));
        assert.deepEqual(kubeconfig.users[0].user.exec.args, ["eks", "get-token", "--cluster-name", autoName("cluster"), "--region", "eu-west-1", "--output", "json"]);
        assert.deepEqual(Object.keys(kubeconfig.users[0].user), ["exec"], "the kubeconfig holds no credential, only the plugin that gets one");
    });

    test("the reader is a role trusted by the cluster's OIDC provider for flux-system/source-controller only", () => {
        const provider = `arn:aws:iam::123456789012:oidc-provider/${only(infra, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster").inputs.url.slice(8)}`;
        const issuer = provider.split("oidc-provider/")[1];
        assert.deepEqual(trustOf(infra, "bucket-reader"), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "WebIdentity",
                    Effect: "Allow",
                    Principal: { Federated: provider },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: { StringEquals: { [`${issuer}:aud`]: "sts.amazonaws.com", [`${issuer}:sub`]: "system:serviceaccount:flux-system:source-controller" } },
                },
            ],
        });
        assert.deepEqual(JSON.parse(only(infra, "aws:iam/rolePolicy:RolePolicy", "bucket-reader").inputs.policy).Statement.map((s: { Action: string[] }) => s.Action), [
            ["s3:ListBucket"],
            ["s3:GetObject"],
        ]);
    });

    test("CI's roles trust GitHub's subjects in both forms, exactly: by name and by name with the immutable ids", () => {
        const subjects = (role: string) => trustOf(infra, role).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"];
        assert.deepEqual(subjects("bucket-ci-writer"), ["repo:acme@123456/deploy@456789:ref:refs/heads/main", "repo:acme/deploy:ref:refs/heads/main"]);
        assert.deepEqual(subjects("bucket-ci-reader"), ["repo:acme@123456/deploy@456789:pull_request", "repo:acme/deploy:pull_request"]);
    });

    test("no IAM user, no access key, no Secret; outputs name roles, and only the kubeconfig is a secret", () => {
        assert.deepEqual([...keyResources(infra), ...keyResources(flux)], []);
        const role = (name: string) => `arn:aws:iam::123456789012:role/flux-bucket/${autoName(name)}`;
        assert.deepEqual(
            { ...infra.outputs, kubeconfig: "-" },
            {
                provider: "aws",
                auth: "workload-identity",
                bucketName: "acme-manifests",
                endpoint: "s3.eu-west-1.amazonaws.com",
                region: "eu-west-1",
                insecure: false,
                forceDestroy: false,
                readerRoleArn: role("bucket-reader"),
                readerKubernetesServiceAccount: "flux-system/source-controller",
                ciWriterRoleArn: role("bucket-ci-writer"),
                ciReaderRoleArn: role("bucket-ci-reader"),
                kubeconfig: "-",
            },
        );
        assert.deepEqual(infra.secretOutputs, ["kubeconfig"]);
    });

    test("the flux stack annotates source-controller's service account; the Bucket has provider aws and no secretRef", async () => {
        const values = only(flux, RELEASE).inputs.values;
        assert.deepEqual(values.sourceController.serviceAccount.annotations, { "eks.amazonaws.com/role-arn": infra.outputs.readerRoleArn });
        assert.deepEqual(values.sourceController.container.additionalArgs, []);
        const bucket = only(flux, BUCKET).inputs;
        assert.equal(bucket.spec.provider, "aws");
        assert.equal(bucket.spec.secretRef, undefined);
        assert.equal(bucket.spec.serviceAccountName, undefined);
        await validateObjects([{ file: "stacks/flux.ts", object: bucket }]);
    });
});

describe("gke: Flux impersonates the reader service account with GKE workload identity, no key", () => {
    let infra: OfflineRun;
    let flux: OfflineRun;
    before(async () => {
        infra = await runInfra({ ...GKE, ...GITHUB, githubEnvironment: "production" }, "gke-dev");
        flux = await runFlux({}, asStackReference(infra), { stack: "gke-dev-flux", infraStack: "organization/flux-bucket/gke-dev" });
    });

    test("a GKE cluster with a workload pool, a node pool on the GKE metadata server, nodes as their own account", () => {
        const cluster = only(infra, "gcp:container/cluster:Cluster").inputs;
        assert.deepEqual(cluster.workloadIdentityConfig, { workloadPool: "acme-prod.svc.id.goog" });
        assert.deepEqual([cluster.location, cluster.removeDefaultNodePool, cluster.deletionProtection], ["europe-west1-b", true, false]);
        const pool = only(infra, "gcp:container/nodePool:NodePool").inputs;
        assert.deepEqual(pool.nodeConfig.workloadMetadataConfig, { mode: "GKE_METADATA" });
        assert.equal(pool.nodeCount, 2);
        const nodes = only(infra, "gcp:serviceaccount/account:Account", "cluster-nodes").inputs;
        assert.equal(pool.nodeConfig.serviceAccount, `${nodes.accountId}@acme-prod.iam.gserviceaccount.com`);
        assert.equal(only(infra, "gcp:projects/iAMMember:IAMMember", "cluster-nodes").inputs.role, "roles/container.defaultNodeServiceAccount");
        assert.equal(parse(String(infra.outputs.kubeconfig)).users[0].user.exec.command, "gke-gcloud-auth-plugin");
    });

    test("only flux-system/source-controller of the cluster's workload pool may impersonate the reader", () => {
        const reader = only(infra, "gcp:serviceaccount/iAMMember:IAMMember", "bucket-reader-impersonator").inputs;
        assert.deepEqual(reader, {
            serviceAccountId: `projects/acme-prod/serviceAccounts/${infra.outputs.readerServiceAccount}`,
            role: "roles/iam.workloadIdentityUser",
            member: "serviceAccount:acme-prod.svc.id.goog[flux-system/source-controller]",
        });
        const members = ofType(infra, "gcp:serviceaccount/iAMMember:IAMMember").map((binding) => binding.inputs.member);
        const pool = `principal://iam.googleapis.com/projects/${OFFLINE_PROJECT_NUMBER}/locations/global/workloadIdentityPools/${infra.outputs.ciWorkloadIdentityProvider!.toString().split("/")[5]}`;
        assert.deepEqual(members.sort(), [
            `${pool}/subject/repo:acme/deploy:environment:production`,
            `${pool}/subject/repo:acme/deploy:pull_request`,
            `${pool}/subject/repo:acme@123456/deploy@456789:environment:production`,
            `${pool}/subject/repo:acme@123456/deploy@456789:pull_request`,
            "serviceAccount:acme-prod.svc.id.goog[flux-system/source-controller]",
        ]);
    });

    test("no key and no Secret; outputs name service accounts and the federation provider", () => {
        assert.deepEqual([...keyResources(infra), ...keyResources(flux)], []);
        assert.deepEqual(infra.secretOutputs, ["kubeconfig"]);
        assert.equal(infra.outputs.auth, "workload-identity");
        assert.equal(infra.outputs.readerKubernetesServiceAccount, "flux-system/source-controller");
        assert.match(String(infra.outputs.readerServiceAccount), /^fluxbucket-reader-[0-9a-f]{8}@acme-prod\.iam\.gserviceaccount\.com$/);
        assert.match(String(infra.outputs.ciWriterServiceAccount), /^fluxbucket-ci-writer-[0-9a-f]{8}@acme-prod\.iam\.gserviceaccount\.com$/);
        assert.match(String(infra.outputs.ciWorkloadIdentityProvider), /^projects\/\d+\/locations\/global\/workloadIdentityPools\/fluxbucket-gh-[0-9a-f]{8}\/providers\/github$/);
    });

    test("the flux stack annotates source-controller with the reader's email; the Bucket has provider gcp and no secretRef", async () => {
        assert.deepEqual(only(flux, RELEASE).inputs.values.sourceController.serviceAccount.annotations, {
            [PROVIDERS.gcp.workloadIdentity.annotation]: infra.outputs.readerServiceAccount,
        });
        const bucket = only(flux, BUCKET).inputs;
        assert.deepEqual([bucket.spec.provider, bucket.spec.endpoint, bucket.spec.secretRef], ["gcp", "storage.googleapis.com", undefined]);
        await validateObjects([{ file: "stacks/flux.ts", object: bucket }]);
    });
});

describe("environments with workload identity: object-level, one service account per environment", () => {
    let infra: OfflineRun;
    let dev: OfflineRun;
    before(async () => {
        infra = await runInfra({ ...EKS, environments: JSON.stringify(["dev", "prod"]) }, "fleet");
        dev = await runFlux({ environment: "dev" }, asStackReference(infra), { stack: "fleet-flux", infraStack: "organization/flux-bucket/fleet" });
    });

    test("each environment's reader role trusts its own service account, and its policy is its prefix's", () => {
        for (const environment of ["dev", "prod"]) {
            const condition = trustOf(infra, `bucket-${environment}-reader`).Statement[0].Condition.StringEquals;
            const sub = Object.entries(condition).find(([key]) => key.endsWith(":sub"))![1];
            assert.equal(sub, `system:serviceaccount:flux-system:flux-bucket-${environment}`);
            const policy = JSON.parse(only(infra, "aws:iam/rolePolicy:RolePolicy", `bucket-${environment}-reader`).inputs.policy);
            assert.deepEqual(policy.Statement.find((s: { Sid: string }) => s.Sid === "Objects").Resource, `arn:aws:s3:::${autoName("bucket")}/${environment}/*`);
        }
        assert.deepEqual(keyResources(infra), []);
        // Keyless environments hold no secret: the map is in the clear.
        assert.deepEqual(infra.secretOutputs, ["kubeconfig"]);
        assert.equal((infra.outputs.environments as Record<string, { readerKubernetesServiceAccount: string }>).prod.readerKubernetesServiceAccount, "flux-system/flux-bucket-prod");
        assert.ok(only(infra, "aws:s3/bucketObjectv2:BucketObjectv2").inputs.key === SOURCEIGNORE);
    });

    test("the flux stack: the environment's annotated service account, a token right for it alone, the feature gate", async () => {
        const account = only(dev, "kubernetes:core/v1:ServiceAccount").inputs;
        const roleArn = (infra.outputs.environments as Record<string, { readerRoleArn: string }>).dev.readerRoleArn;
        assert.deepEqual(account, {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: "flux-bucket-dev", namespace: "flux-system", annotations: { "eks.amazonaws.com/role-arn": roleArn } },
            automountServiceAccountToken: false,
        });
        assert.deepEqual(only(dev, "kubernetes:rbac.authorization.k8s.io/v1:Role").inputs.rules, [
            { apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["flux-bucket-dev"], verbs: ["create"] },
        ]);
        const binding = only(dev, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").inputs;
        assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "source-controller", namespace: "flux-system" }]);
        const values = only(dev, RELEASE).inputs.values;
        assert.deepEqual(values.sourceController.container.additionalArgs, ["--feature-gates=ObjectLevelWorkloadIdentity=true"]);
        assert.deepEqual(values.sourceController.serviceAccount.annotations, {});
        const bucket = only(dev, BUCKET);
        assert.equal(bucket.inputs.spec.serviceAccountName, "flux-bucket-dev");
        assert.equal(bucket.inputs.spec.secretRef, undefined);
        assert.equal(bucket.inputs.spec.prefix, "dev/");
        for (const resource of [only(dev, "kubernetes:core/v1:ServiceAccount"), only(dev, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")]) {
            assert.ok(bucket.dependencies.includes(resource.urn), `the Bucket waits for ${resource.type}`);
        }
        await validateObjects([account, bucket.inputs].map((object) => ({ file: "stacks/flux.ts", object })));
    });
});

describe("several environments on one cluster: one flux stack installs Flux, the others add their environment", () => {
    test("the second environment's stack: its Bucket, service account and token right, no chart; each reads as its own", async () => {
        const infra = asStackReference(await runInfra({ ...EKS, environments: JSON.stringify(["dev", "prod"]) }, "fleet"));
        const options = { stack: "fleet-prod-flux", infraStack: "organization/flux-bucket/fleet" };
        const prod = await runFlux({ environment: "prod", installFlux: "false", sourceName: "flux-bucket-prod", infraStack: options.infraStack }, infra, options);
        assert.deepEqual([...ofType(prod, RELEASE), ...ofType(prod, "kubernetes:core/v1:Namespace")], []);
        const bucket = only(prod, BUCKET).inputs;
        assert.deepEqual([bucket.metadata.name, bucket.metadata.namespace, bucket.spec.serviceAccountName, bucket.spec.prefix], ["flux-bucket-prod", "flux-system", "flux-bucket-prod", "prod/"]);
        assert.equal(only(prod, "kubernetes:core/v1:ServiceAccount").inputs.metadata.name, "flux-bucket-prod");
        assert.deepEqual(only(prod, "kubernetes:rbac.authorization.k8s.io/v1:Role").inputs.rules[0].resourceNames, ["flux-bucket-prod"]);
        assert.deepEqual({ namespace: prod.outputs.namespace, chartVersion: prod.outputs.chartVersion, bucket: prod.outputs.bucket }, { namespace: "flux-system", chartVersion: undefined, bucket: "flux-bucket-prod" });
    });

    test("installFlux false is refused where it cannot work, naming why", async () => {
        const whole = asStackReference(await runInfra(EKS));
        await assert.rejects(runFlux({ installFlux: "false", sourceName: "other" }, whole), (error: ConfigError) => {
            assert.deepEqual(error.problems, [
                "Pulumi.dev-flux.yaml: flux-bucket:installFlux is false, but the infra stack organization/flux-bucket/dev lets Flux read its whole bucket as " +
                    "source-controller's own service account, which only the stack that installs Flux can annotate: set installFlux true, or split the bucket into environments",
            ]);
            return true;
        });
        await rejectsWith(runFlux({ installFlux: "false", fluxVersion: "2.8.5" }, whole), [
            "Pulumi.dev-flux.yaml: flux-bucket:fluxVersion has no effect with flux-bucket:installFlux false: the stack that installs Flux on the cluster sets it",
        ]);
    });
});

describe("existing clusters, and when workload identity is refused", () => {
    const PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    const existing = { cluster: "existing", kubeconfig: "apiVersion: v1\nkind: Config\n" };

    test("an existing EKS cluster with its OIDC provider: workload identity, trusting that provider", async () => {
        const run = await runInfra({ ...existing, provider: "aws", clusterOidcProvider: PROVIDER_ARN });
        assert.equal(run.outputs.auth, "workload-identity");
        assert.equal(trustOf(run, "bucket-reader").Statement[0].Principal.Federated, PROVIDER_ARN);
        assert.deepEqual(keyResources(run), []);
        assert.equal(ofType(run, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 0);
    });

    test("auth keys on eks keeps the key-based reader and writer", async () => {
        const run = await runInfra({ ...EKS, auth: "keys" });
        assert.equal(run.outputs.auth, "keys");
        assert.equal(ofType(run, "aws:iam/accessKey:AccessKey").length, 2);
        assert.equal(ofType(run, "fluxbucket:aws:BucketRole").length, 0);
        assert.deepEqual(run.secretOutputs.sort(), ["kubeconfig", "readerAccessKeyId", "readerSecretAccessKey", "writerAccessKeyId", "writerSecretAccessKey"]);
    });

    test("civo defaults to keys; workload identity where the cloud cannot trust the cluster is refused, naming what would work", async () => {
        assert.equal((await runInfra({ provider: "aws" })).outputs.auth, "keys");
        assert.equal((await runInfra({ ...GKE, provider: "aws" })).outputs.auth, "keys");
        await rejectsWith(runInfra({ provider: "aws", auth: "workload-identity" }), [
            "Pulumi.dev.yaml: flux-bucket:auth is \"workload-identity\", which needs a cluster whose service accounts the bucket's cloud can trust: " +
                "for provider aws, cluster eks or existing with flux-bucket:clusterOidcProvider; for provider gcp, cluster gke or existing with " +
                "flux-bucket:clusterWorkloadPool. This stack has cluster civo and provider aws: set auth to keys, or change the cluster",
        ]);
    });

    test("bad cluster and CI keys are named together, with what is allowed", async () => {
        await rejectsWith(
            runInfra({
                cluster: "eks",
                provider: "gcp",
                gcpProject: "acme-prod",
                kubernetesVersion: "1.32",
                eksSubnetIds: JSON.stringify(["subnet-1"]),
                clusterWorkloadPool: "acme-prod.svc.id.goog",
                githubBranch: "main",
            }),
            [
                'Pulumi.dev.yaml: flux-bucket:clusterWorkloadPool is for an existing cluster reading a GCS bucket (cluster existing, provider gcp); this stack has cluster eks and provider gcp',
                'Pulumi.dev.yaml: flux-bucket:eksSubnetIds has "subnet-1"; allowed: a subnet id such as subnet-0123456789abcdef0',
                'Pulumi.dev.yaml: flux-bucket:kubernetesVersion is "1.32"; allowed: an EKS minor version from 1.33, such as 1.33',
                "Pulumi.dev.yaml: flux-bucket:githubBranch needs flux-bucket:githubRepository, the repository whose GitHub Actions it is for",
            ],
        );
        await rejectsWith(runInfra({ ...GKE, gkeLocation: "Europe", githubRepository: "acme", githubRepositoryId: "0", githubOidcProvider: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }), [
            'Pulumi.dev.yaml: flux-bucket:gkeLocation is "Europe"; allowed: a GCP zone such as europe-west1-b or a region such as europe-west1',
            "Pulumi.dev.yaml: flux-bucket:githubOidcProvider is for provider aws, not gcp",
            'Pulumi.dev.yaml: flux-bucket:githubRepository is "acme"; allowed: a GitHub repository owner/repo, such as acme/deploy',
            "Pulumi.dev.yaml: flux-bucket:githubOwnerId is required with flux-bucket:githubSubjects both (the default): GitHub's immutable subjects " +
                "(repo:OWNER@OWNER_ID/REPO@REPO_ID:…, the default for repositories created, renamed or transferred from 2026-07-15 on) carry the " +
                "repository's and its owner's ids; find them with gh api repos/acme --jq '.id, .owner.id', or set flux-bucket:githubSubjects to name " +
                "for a repository whose tokens still name it by name only",
            'Pulumi.dev.yaml: flux-bucket:githubRepositoryId is "0"; allowed: GitHub\'s numeric id, such as 123456789 (gh api repos/OWNER/REPO --jq .id, or --jq .owner.id for the owner)',
        ]);
        await rejectsWith(runInfra({ ...EKS, githubRepository: "acme/deploy", githubSubjects: "immutable" }), [
            "Pulumi.dev.yaml: flux-bucket:githubRepositoryId and flux-bucket:githubOwnerId are required with flux-bucket:githubSubjects immutable: " +
                "GitHub's immutable subjects (repo:OWNER@OWNER_ID/REPO@REPO_ID:…, the default for repositories created, renamed or transferred from " +
                "2026-07-15 on) carry the repository's and its owner's ids; find them with gh api repos/acme/deploy --jq '.id, .owner.id', or set " +
                "flux-bucket:githubSubjects to name for a repository whose tokens still name it by name only",
        ]);
        await rejectsWith(runInfra({ ...EKS, githubRepository: "acme/deploy", githubOwnerId: "123456", githubSubjects: "name" }), [
            "Pulumi.dev.yaml: flux-bucket:githubRepositoryId is required with flux-bucket:githubOwnerId: give both ids (gh api repos/acme/deploy --jq '.id, .owner.id') or neither",
        ]);
        await rejectsWith(runInfra({ ...EKS, githubOwnerId: "123456", githubSubjects: "name" }), [
            "Pulumi.dev.yaml: flux-bucket:githubOwnerId needs flux-bucket:githubRepository, the repository whose GitHub Actions it is for",
            "Pulumi.dev.yaml: flux-bucket:githubSubjects needs flux-bucket:githubRepository, the repository whose GitHub Actions it is for",
        ]);
    });

    test("a flux stack on another cluster, or in another namespace, than the identities trust is refused before anything is created", async () => {
        const infra = asStackReference(await runInfra(EKS));
        const base = 'Pulumi.dev-flux.yaml: flux-bucket:infraStack "organization/flux-bucket/dev" ';
        await rejectsWith(runFlux({ kubeconfig: "apiVersion: v1\nkind: Config\n" }, infra), [
            `${base}lets Flux read with workload identity, which only its own cluster's service accounts can use; this stack installs on another ` +
                "cluster (flux-bucket:kubeconfig): set flux-bucket:auth to keys on the infra stack, or install on its cluster",
        ]);
        await rejectsWith(runFlux({ fluxNamespace: "flux" }, infra), [
            `${base}lets Flux read as the service account flux-system/source-controller, in namespace flux-system; this stack's ` +
                "flux-bucket:fluxNamespace is flux: set the same flux-bucket:fluxNamespace in both stacks",
        ]);
    });
});
