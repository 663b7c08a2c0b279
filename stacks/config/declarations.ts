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
        description: "Where the cluster comes from: `civo` creates one, `existing` uses the `kubeconfig` key.",
        default: "civo",
        allowed: ["civo", "existing"],
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
        description: "Civo k3s version, e.g. `1.33.1-k3s1`; the flux2 chart needs Kubernetes 1.33 or newer. Unset: Civo's latest.",
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
    region: { layer: "infra", type: "string", description: "AWS region of the bucket (aws), or the S3 region (generic).", default: "eu-west-1" },
    gcpProject: { layer: "infra", type: "string", description: "GCP project of the bucket and service accounts (gcp)." },
    gcpLocation: { layer: "infra", type: "string", description: "GCS location of the bucket, e.g. `EU` or `europe-west1` (gcp).", default: "EU" },
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
    fluxNamespace: { layer: "flux", type: "string", description: "Namespace Flux is installed into.", default: "flux-system" },
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
} as const satisfies Record<string, Declaration>;

export type ConfigKey = keyof typeof declarations;
