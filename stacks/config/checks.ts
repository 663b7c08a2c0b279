/**
 * Value checks for config keys. Each returns undefined when the value is fine, otherwise what is allowed.
 * Patterns are the ones the Flux CRDs and the cloud APIs enforce, so a bad value fails here and not mid-deploy.
 */
import { GKE_WORKLOAD_POOL, WORKLOAD_IDENTITY_PROVIDER } from "../../src/bucket/identity.ts";

type Check = (value: string) => string | undefined;

const rule = (pattern: RegExp, allowed: string): Check => (value) => (pattern.test(value) ? undefined : allowed);

/** Flux `interval`/`retryInterval` and Kustomization `timeout` (Go durations in ms, s, m, h). */
export const fluxDuration = rule(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, "allowed: a duration in ms, s, m or h such as 30s, 5m, 1h30m");

/** The Bucket `timeout` has no hours. */
export const fluxBucketTimeout = rule(/^([0-9]+(\.[0-9]+)?(ms|s|m))+$/, "allowed: a duration in ms, s or m such as 60s or 2m");

export const awsRegion = rule(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "allowed: an AWS region code such as eu-west-1 or us-east-1");

export const s3BucketName = rule(
    /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(-s3alias|--ol-s3|--x-s3|\.\.))[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "allowed: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
);

export const gcsBucketName = rule(
    /^(?!goog)(?!.*google)[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/,
    "allowed: 3-63 lowercase letters, digits, dots, hyphens and underscores, starting and ending with a letter or digit, without \"goog\"",
);

export const gcsLocation = rule(
    /^([A-Za-z]+|[a-z]+-[a-z]+\d+|[A-Za-z]+\d+)$/,
    "allowed: a multi-region (EU, US, ASIA), a dual-region (EUR4, NAM4) or a region such as europe-west1",
);

export const gcpProjectId = rule(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "allowed: a GCP project ID (6-30 lowercase letters, digits and hyphens)");

/** A Kubernetes object or namespace name (DNS-1123 label). */
export const kubernetesName = rule(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "allowed: lowercase letters, digits and hyphens, at most 63");

/** S3-compatible endpoints: Flux wants the bare host, the scheme comes from `insecure`. */
export const bareHost = rule(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "allowed: a host[:port] without scheme or path, such as minio.example.com:9000");

export const azureEndpoint = rule(
    /^https:\/\/[a-z0-9]{3,24}\.blob\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)\/?$/,
    "allowed: https://<storage account>.blob.core.windows.net",
);

export const azureContainerName = rule(
    /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
    "allowed: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
);

/** A path inside the bucket, relative to its root as Flux resolves it. */
export const bucketPath = (value: string): string | undefined =>
    value.split("/").includes("..") || value.startsWith("/")
        ? "allowed: a path relative to the bucket root such as ./clusters/dev, without .."
        : undefined;

export const bucketPrefix = rule(/^[^/][^\s]*$/, "allowed: a key prefix without a leading slash, such as dev/ or teams/a");

export const stackName = rule(/^[^/\s]+\/[^/\s]+\/[^/\s]+$/, "allowed: a fully qualified stack name <organization>/<project>/<stack>");

/** Whether a recognisable Kubernetes version is older than 1.33, which the flux2 chart's pre-install check refuses. */
const olderThanChartMinimum = (value: string) => {
    const minor = /^v?1\.(\d+)(\.|$)/.exec(value)?.[1];
    return minor !== undefined && Number(minor) < 33;
};

/**
 * Civo's version names are passed through as written (their format is Civo's to change); only a recognisable
 * Kubernetes version older than 1.33 is rejected.
 */
export const civoKubernetesVersion: Check = (value) =>
    olderThanChartMinimum(value) ? "allowed: Kubernetes 1.33 or newer (the flux2 chart refuses older), such as 1.33.1-k3s1" : undefined;

export const civoRegion = rule(/^[A-Z]{3}\d$/, "allowed: a Civo region code such as LON1, FRA1, NYC1 or PHX1");

/** Characters S3 and GCS both treat as safe in keys, in slash-separated segments. */
export const keyPrefix = rule(
    /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/?$/,
    "allowed: slash-separated segments of letters, digits and !_.*'()-, such as prod or teams/a",
);

/** EKS takes a minor version, from 1.33. */
export const eksKubernetesVersion: Check = (value) =>
    !/^1\.\d+$/.test(value) || olderThanChartMinimum(value) ? "allowed: an EKS minor version from 1.33, such as 1.33" : undefined;

/** GKE's minimum master version: a minor, a patch or a full GKE version, from 1.33. */
export const gkeKubernetesVersion: Check = (value) =>
    !/^1\.\d+(\.\d+(-gke\.\d+)?)?$/.test(value) || olderThanChartMinimum(value)
        ? "allowed: a GKE version from 1.33, such as 1.33 or 1.33.5-gke.1162000"
        : undefined;

export const gcpZoneOrRegion = rule(/^[a-z]+-[a-z]+\d+(-[a-z])?$/, "allowed: a GCP zone such as europe-west1-b or a region such as europe-west1");

export const subnetId = rule(/^subnet-[0-9a-f]{8,17}$/, "allowed: a subnet id such as subnet-0123456789abcdef0");

export const oidcProviderArn = rule(
    /^arn:aws[\w-]*:iam::\d{12}:oidc-provider\/[^\s]+$/,
    "allowed: an IAM OIDC provider ARN such as arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
);

/** A GKE cluster's workload pool, or for a cluster outside GKE the Workload Identity Federation provider that trusts its issuer. */
export const workloadPool: Check = (value) =>
    GKE_WORKLOAD_POOL.test(value) || WORKLOAD_IDENTITY_PROVIDER.test(value)
        ? undefined
        : "allowed: a GKE workload pool <project>.svc.id.goog such as my-project.svc.id.goog, or outside GKE the Workload Identity Federation provider " +
          "that trusts the cluster's issuer, projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>";

export const githubRepository = rule(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9_.-]{1,100}$/, "allowed: a GitHub repository owner/repo, such as acme/deploy");

/** GitHub's numeric ids of repositories and accounts (the REST API's `id`, the token's `repository_id` and `repository_owner_id`). */
export const githubId = rule(/^[1-9][0-9]{0,19}$/, "allowed: GitHub's numeric id, such as 123456789 (gh api repos/OWNER/REPO --jq .id, or --jq .owner.id for the owner)");

/** A branch name as it appears in a GitHub token's `sub` (`ref:refs/heads/<branch>`), without the refs/heads/ prefix. */
export const gitBranch = rule(/^(?!refs\/)(?!.*(\.\.|\/\/|@\{))[^\s~^:?*[\\]+$/, "allowed: a branch name such as main or release/v1, without refs/heads/");

/** A GitHub deployment environment name (it becomes part of the token's `sub`, where a colon would be ambiguous). */
export const githubEnvironment = rule(/^[^:\s][^:]{0,254}$/, "allowed: a GitHub environment name such as production, without colons");
