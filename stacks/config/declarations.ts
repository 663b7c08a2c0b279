/**
 * Every config key of the project, in the `flux-bucket` namespace. Pulumi.yaml declares the same keys with the
 * same types, descriptions and defaults for the CLI (a test keeps the two equal); this table is what the program
 * itself applies, because `pulumi.runtime.setMocks` (tests, `npm run render`) runs without the CLI.
 */
export interface Declaration {
    /** The stacks that read it: the infra layer's, the flux layer's, or both. Set in the other layer's, it is refused. */
    layer: "infra" | "flux" | "both";
    type: "string" | "integer" | "boolean" | "array";
    /** For arrays: the type of the elements (Pulumi.yaml cannot declare arrays of objects). */
    items?: { type: "string" };
    description: string;
    default?: string | number | boolean;
    /** Only these values are accepted. */
    allowed?: readonly string[];
    /** Must be set with `pulumi config set --secret`. */
    secret?: boolean;
}

import { DEFAULT_FLUX_RELEASE, FLUX_RELEASES } from "../../components/flux/install.ts";
import { AUTH_MODES, GITHUB_SUBJECT_FORMATS } from "../../src/bucket/identity.ts";
import { PROVIDER_NAMES } from "../../src/bucket/providers.ts";

export const PROJECT = "flux-bucket";


export const declarations = {
    layer: {
        layer: "both",
        type: "string",
        description: "Which program this stack runs: `infra` (cluster, bucket, credentials) or `flux` (Flux syncing from the bucket).",
        allowed: ["infra", "flux"],
    },

    // infra layer: cluster
    cluster: {
        layer: "infra",
        type: "string",
        description:
            "Where the cluster comes from: `civo`, `eks` (in `region`) and `gke` (in `gcpProject`, at `gkeLocation`) create one; `existing` uses the `kubeconfig` key.",
        default: "civo",
        allowed: ["civo", "eks", "gke", "existing"],
    },
    kubeconfig: {
        layer: "both",
        type: "string",
        description:
            "infra: kubeconfig of an existing cluster (kind, k3d, any), required when `cluster` is `existing`. flux: the cluster this stack installs Flux on, when it is not the infra stack's.",
        secret: true,
    },
    civoRegion: { layer: "infra", type: "string", description: "Civo region of the cluster.", default: "LON1" },
    civoNodeSize: { layer: "infra", type: "string", description: "Civo instance size of each node.", default: "g4s.kube.medium" },
    civoNodeCount: { layer: "infra", type: "integer", description: "Number of Civo nodes (1-20).", default: 2 },
    kubernetesVersion: {
        layer: "infra",
        type: "string",
        description:
            "Kubernetes version of a created cluster: civo a k3s version (`1.33.1-k3s1`), eks a minor version (`1.33`), gke a minimum master version (`1.33`); the flux2 chart needs 1.33 or newer. Unset: the cloud's default.",
    },
    eksInstanceType: { layer: "infra", type: "string", description: "EC2 instance type of the EKS nodes.", default: "t3.medium" },
    eksNodeCount: { layer: "infra", type: "integer", description: "Number of EKS nodes (1-20).", default: 2 },
    eksSubnetIds: {
        layer: "infra",
        type: "array",
        items: { type: "string" },
        description: "Subnets of the EKS cluster and nodes, in at least two availability zones. Unset: the default VPC's subnets in `region`.",
    },
    gkeLocation: {
        layer: "infra",
        type: "string",
        description: "Zone (a zonal cluster) or region (regional: `gkeNodeCount` nodes per zone) of the GKE cluster.",
        default: "europe-west1-b",
    },
    gkeMachineType: { layer: "infra", type: "string", description: "Machine type of the GKE nodes.", default: "e2-standard-2" },
    gkeNodeCount: { layer: "infra", type: "integer", description: "GKE nodes per zone (1-20).", default: 2 },
    clusterOidcProvider: {
        layer: "infra",
        type: "string",
        description:
            "existing cluster, aws: ARN of the IAM OIDC provider of the cluster's service account issuer (`arn:aws:iam::<account>:oidc-provider/<issuer>`); Flux then reads with workload identity. An EKS issuer (`oidc.eks.<region>.amazonaws.com/id/<id>`): source-controller's own service account (EKS's pod identity webhook); any other: a `flux-bucket` service account whose tokens source-controller exchanges itself.",
    },
    clusterWorkloadPool: {
        layer: "infra",
        type: "string",
        description:
            "existing cluster, gcp: a GKE cluster's workload pool (`<project>.svc.id.goog`), or outside GKE the Workload Identity Federation provider that trusts the cluster's issuer (`projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`, `google.subject` mapped to `assertion.sub`); Flux then reads with workload identity.",
    },
    auth: {
        layer: "infra",
        type: "string",
        description:
            "How Flux reads the bucket: `workload-identity` (a cloud identity bound to Flux's Kubernetes service account; no key anywhere) or `keys` (an access key or service account key in a Secret, and a key-based writer). Unset: `workload-identity` when the cluster supports it for the bucket's cloud (eks or existing with `clusterOidcProvider` for aws, gke or existing with `clusterWorkloadPool` for gcp), else `keys`.",
        allowed: AUTH_MODES,
    },
    githubRepository: {
        layer: "infra",
        type: "string",
        description: "aws/gcp: `owner/repo` whose GitHub Actions get a keyless writer (pushes to `githubBranch`, or jobs of `githubEnvironment`) and a read-only identity for pull requests.",
    },
    githubRepositoryId: {
        layer: "infra",
        type: "string",
        description:
            "The immutable id of `githubRepository` (`gh api repos/OWNER/REPO --jq .id`): GitHub's immutable subjects (`repo:OWNER@OWNER_ID/REPO@REPO_ID:…`) and the `repository_id` claim carry it, so a repository of the same name under another account is refused. Required unless `githubSubjects` is `name`.",
    },
    githubOwnerId: {
        layer: "infra",
        type: "string",
        description: "The immutable id of the owner of `githubRepository` (`gh api repos/OWNER/REPO --jq .owner.id`), as the `repository_owner_id` claim and immutable subjects carry it. Required unless `githubSubjects` is `name`.",
    },
    githubSubjects: {
        layer: "infra",
        type: "string",
        description:
            "Which forms of GitHub's `sub` claim the CI identities trust: `immutable` (`repo:OWNER@OWNER_ID/REPO@REPO_ID:…`, the default for repositories created, renamed or transferred from 2026-07-15 on, or opted in), `name` (`repo:OWNER/REPO:…`, older repositories) or `both` (either, while a repository switches).",
        default: "both",
        allowed: GITHUB_SUBJECT_FORMATS,
    },
    githubBranch: { layer: "infra", type: "string", description: "The branch whose pushes may write with the CI writer.", default: "main" },
    githubEnvironment: {
        layer: "infra",
        type: "string",
        description: "A GitHub deployment environment whose jobs may write with the CI writer (instead of `githubBranch`): its protection rules decide who deploys.",
    },
    githubOidcProvider: {
        layer: "infra",
        type: "string",
        description: "aws: ARN of the account's existing IAM OIDC provider for `token.actions.githubusercontent.com` (an account has one per issuer). Unset: it is created.",
    },

    // infra layer: object storage
    provider: {
        layer: "infra",
        type: "string",
        description: "Object storage Flux reads from: `aws` and `gcp` are provisioned; `generic` (S3-compatible) and `azure` are taken from config.",
        default: "aws",
        allowed: PROVIDER_NAMES,
    },
    bucketName: {
        layer: "infra",
        type: "string",
        description: "Bucket name. aws/gcp: optional (a unique name is generated); generic/azure (container): required.",
    },
    region: { layer: "infra", type: "string", description: "AWS region of the bucket (aws) and of the EKS cluster (eks), or the S3 region (generic).", default: "eu-west-1" },
    gcpProject: { layer: "infra", type: "string", description: "GCP project of the bucket and service accounts (gcp) and of the GKE cluster (gke)." },
    gcpLocation: { layer: "infra", type: "string", description: "GCS location of the bucket, e.g. `EU` or `europe-west1` (gcp).", default: "EU" },
    promotions: {
        layer: "infra",
        type: "array",
        items: { type: "string" },
        description:
            "With environments: which environment promotes from which, entries `to=from` (e.g. `prod=staging`): the writers of `to` (keys and CI) may read `from`'s objects and versions, for `bucketops promote`, never write them.",
    },
    environments: {
        layer: "infra",
        type: "array",
        items: { type: "string" },
        description:
            "aws/gcp: environments sharing the bucket, each `name` (prefix `name/`) or `name=prefix`; each gets a reader and a writer limited to its prefix. Unset: one of each for the whole bucket.",
    },
    noncurrentVersionDays: {
        layer: "infra",
        type: "integer",
        description: "Days a replaced or deleted object version is kept (the rollback window) before it expires.",
        default: 30,
    },
    forceDestroy: {
        layer: "infra",
        type: "boolean",
        description: "Let `pulumi destroy` delete a bucket that still holds objects.",
        default: false,
    },
    endpoint: {
        layer: "infra",
        type: "string",
        description: "generic: the S3 host[:port] without scheme; azure: `https://<account>.blob.core.windows.net`.",
    },
    insecure: { layer: "infra", type: "boolean", description: "generic: connect over plain HTTP.", default: false },
    accessKey: { layer: "infra", type: "string", description: "generic: access key Flux reads the bucket with." },
    secretKey: { layer: "infra", type: "string", description: "generic: secret key Flux reads the bucket with.", secret: true },
    azureAccountKey: { layer: "infra", type: "string", description: "azure: storage account key (or set `azureSasKey`).", secret: true },
    azureSasKey: { layer: "infra", type: "string", description: "azure: SAS token with read and list rights (or set `azureAccountKey`).", secret: true },

    // flux layer
    infraStack: {
        layer: "flux",
        type: "string",
        description: "Fully qualified name of the infra stack to read. Default: this stack's name without its `-flux` suffix, in this organization and project.",
    },
    environment: {
        layer: "flux",
        type: "string",
        description: "The environment of the infra stack's `environments` this flux stack syncs: its prefix and credentials. Unset: the whole bucket.",
    },
    fluxNamespace: {
        layer: "both",
        type: "string",
        description: "Namespace Flux is installed into. infra: the namespace whose service accounts the workload identities trust (the flux stack must use the same).",
        default: "flux-system",
    },
    installFlux: {
        layer: "flux",
        type: "boolean",
        description:
            "Install Flux (the flux2 chart) with this stack. `false` when another flux stack installs it on the same cluster: this one only adds its Bucket and Kustomization (and, keyless, its environment's service account); give it its own `sourceName`.",
        default: true,
    },
    fluxChartVersion: {
        layer: "flux",
        type: "string",
        description: "Version of the fluxcd-community `flux2` chart (2.18.3 ships Flux 2.8).",
        default: "2.18.3",
    },
    fluxVersion: {
        layer: "flux",
        type: "string",
        description: "Flux release whose images the chart runs (its `<controller>.tag` values): `2.8.8` (source-controller v1.8.5, bucket object paths resolved with SecureJoin) or `2.8.5` (the chart's own).",
        default: DEFAULT_FLUX_RELEASE,
        allowed: Object.keys(FLUX_RELEASES),
    },
    sourceName: {
        layer: "flux",
        type: "string",
        description: "Name of the Flux Bucket, its credentials Secret and the root Kustomization.",
        default: "flux-bucket",
    },
    bucketInterval: { layer: "flux", type: "string", description: "How often Flux checks the bucket (ms, s, m, h).", default: "1m" },
    bucketTimeout: { layer: "flux", type: "string", description: "Timeout of one bucket fetch (ms, s, m).", default: "60s" },
    bucketPrefix: { layer: "flux", type: "string", description: "Only fetch keys under this prefix (server-side filter)." },
    bucketIgnore: { layer: "flux", type: "string", description: "Extra .sourceignore-format patterns to exclude (the Bucket's spec.ignore, which always ends with .bucketops-lock)." },
    bucketSuspend: { layer: "flux", type: "boolean", description: "Suspend reconciliation of the Bucket.", default: false },
    kustomizationPath: {
        layer: "flux",
        type: "string",
        description: "Path in the bucket the root Kustomization applies; with `environment`, inside its prefix (default `./clusters/<environment>`).",
        default: "./clusters/dev",
    },
    kustomizationPrune: { layer: "flux", type: "boolean", description: "Delete objects removed from the bucket.", default: true },
    kustomizationInterval: { layer: "flux", type: "string", description: "Reconciliation interval of the Kustomization.", default: "10m" },
    kustomizationRetryInterval: { layer: "flux", type: "string", description: "Retry interval after a failed apply.", default: "2m" },
    kustomizationTimeout: { layer: "flux", type: "string", description: "Timeout of one apply, health checks included.", default: "5m" },
    kustomizationWait: { layer: "flux", type: "boolean", description: "Wait for every applied object to become ready.", default: true },
    substitutePrefix: {
        layer: "flux",
        type: "boolean",
        description:
            "The root Kustomization sets `${BUCKETOPS_PREFIX}` to the Bucket's prefix (postBuild.substitute), so a tree whose Flux paths read `./${BUCKETOPS_PREFIX}apps/prod` is the same under every environment and `bucketops promote` copies it byte for byte. It also substitutes every other `${VAR}` in what the root path applies (unset ones become empty; `kustomize.toolkit.fluxcd.io/substitute: disabled` opts an object out).",
        default: false,
    },
} as const satisfies Record<string, Declaration>;

export type ConfigKey = keyof typeof declarations;
