import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../../components/environments.ts";
import * as check from "./checks.ts";
import type { FluxBucketProvider } from "../../src/bucket/flux.ts";
import type { Auth, GithubSubjectFormat, GithubTrust } from "../../src/bucket/identity.ts";
import { PROVIDERS } from "../../src/bucket/providers.ts";
import { readEnvironments } from "./environments.ts";
import { ConfigReader } from "./reader.ts";

export type ClusterConfig =
    | { kind: "civo"; region: string; nodeSize: string; nodeCount: number; kubernetesVersion?: string }
    | { kind: "eks"; region: string; instanceType: string; nodeCount: number; kubernetesVersion?: string; subnetIds?: string[] }
    | { kind: "gke"; project: string; location: string; machineType: string; nodeCount: number; kubernetesVersion?: string }
    | {
          kind: "existing";
          kubeconfig: pulumi.Output<string>;
          /** aws: the IAM OIDC provider of the cluster's service account issuer. */
          oidcProviderArn?: string;
          /** gcp: the cluster's workload pool. */
          workloadPool?: string;
      };

interface ProvisionedBucket {
    /** Unset: a unique name is generated. */
    bucketName?: string;
    noncurrentVersionDays: number;
    forceDestroy: boolean;
    /** Unset: one reader and one writer for the whole bucket. */
    environments?: Environment[];
}

export type StorageConfig =
    | ({ provider: "aws"; region: string } & ProvisionedBucket)
    | ({ provider: "gcp"; project: string; location: string } & ProvisionedBucket)
    | {
          provider: "generic";
          bucketName: string;
          endpoint: string;
          insecure: boolean;
          region?: string;
          accessKey: pulumi.Output<string>;
          secretKey: pulumi.Output<string>;
      }
    | {
          provider: "azure";
          bucketName: string;
          endpoint: string;
          accountKey?: pulumi.Output<string>;
          sasKey?: pulumi.Output<string>;
      };

export interface InfraConfig {
    cluster: ClusterConfig;
    storage: StorageConfig;
    /** How Flux reads: with workload identity only where `cluster` lets the bucket's cloud trust its service accounts. */
    auth: Auth;
    /** Flux's namespace, whose service accounts the workload identities trust. */
    fluxNamespace: string;
    /** GitHub Actions identities (aws and gcp). */
    github?: GithubTrust & { oidcProviderArn?: string };
}

function readCluster(config: ConfigReader, provider: FluxBucketProvider): ClusterConfig {
    const kind = config.string("cluster");
    for (const [key, cloud] of [["clusterOidcProvider", "aws"], ["clusterWorkloadPool", "gcp"]] as const) {
        if (config.isSet(key) && (kind !== "existing" || provider !== cloud)) {
            config.fail(key, `is for an existing cluster reading a ${PROVIDERS[cloud].title} bucket (cluster existing, provider ${cloud}); this stack has cluster ${kind} and provider ${provider}`);
        }
    }
    if (kind === "existing") {
        return {
            kind,
            kubeconfig: config.secret("kubeconfig", "when cluster is existing"),
            oidcProviderArn: config.checked("clusterOidcProvider", check.oidcProviderArn),
            workloadPool: config.checked("clusterWorkloadPool", check.workloadPool),
        };
    }
    if (kind === "eks") {
        // With an S3 bucket, readStorage checks the shared key (once, so a bad value is named once).
        const region = provider === "aws" ? config.string("region") : config.checked("region", check.awsRegion);
        if (provider !== "aws") config.overriddenBy("aws:region", "region", region, "the EKS cluster is created in");
        const subnetIds = config.stringList("eksSubnetIds");
        subnetIds?.forEach((id) => {
            const problem = check.subnetId(id);
            if (problem) config.fail("eksSubnetIds", `has "${id}"; ${problem}`);
        });
        return {
            kind,
            region,
            instanceType: config.string("eksInstanceType"),
            nodeCount: config.integer("eksNodeCount", 1, 20),
            kubernetesVersion: config.checked("kubernetesVersion", check.eksKubernetesVersion),
            subnetIds,
        };
    }
    if (kind === "gke") {
        const project =
            provider === "gcp" ? (config.string("gcpProject") ?? "") : config.checked("gcpProject", check.gcpProjectId, "when cluster is gke");
        if (provider !== "gcp") config.overriddenBy("gcp:project", "gcpProject", project, "the GKE cluster is created in");
        return {
            kind,
            project,
            location: config.checked("gkeLocation", check.gcpZoneOrRegion),
            machineType: config.string("gkeMachineType"),
            nodeCount: config.integer("gkeNodeCount", 1, 20),
            kubernetesVersion: config.checked("kubernetesVersion", check.gkeKubernetesVersion),
        };
    }
    const region = config.checked("civoRegion", check.civoRegion);
    config.overriddenBy("civo:region", "civoRegion", region, "the cluster is created in");
    return {
        kind: "civo",
        region,
        nodeSize: config.string("civoNodeSize"),
        nodeCount: config.integer("civoNodeCount", 1, 20),
        kubernetesVersion: config.checked("kubernetesVersion", check.civoKubernetesVersion),
    };
}

function readStorage(config: ConfigReader, provider: FluxBucketProvider): StorageConfig {
    const when = `when provider is ${provider}`;
    const provisioned = () => ({
        noncurrentVersionDays: config.integer("noncurrentVersionDays", 1, 3650),
        forceDestroy: config.boolean("forceDestroy"),
        environments: readEnvironments(config),
    });
    if ((provider === "generic" || provider === "azure") && config.isSet("environments")) {
        config.fail("environments", `needs a bucket this stack provisions (provider aws or gcp), not ${provider}`);
    }
    switch (provider) {
        case "aws": {
            const region = config.checked("region", check.awsRegion);
            config.overriddenBy("aws:region", "region", region, "the bucket and its identities are created in");
            return {
                provider,
                region,
                bucketName: config.checked("bucketName", check.s3BucketName),
                ...provisioned(),
            };
        }
        case "gcp": {
            const project = config.checked("gcpProject", check.gcpProjectId, when);
            config.overriddenBy("gcp:project", "gcpProject", project, "the bucket and its service accounts are created in");
            return {
                provider,
                project,
                location: config.checked("gcpLocation", check.gcsLocation),
                bucketName: config.checked("bucketName", check.gcsBucketName),
                ...provisioned(),
            };
        }
        case "generic":
            return {
                provider,
                bucketName: config.checked("bucketName", check.s3BucketName, when),
                endpoint: config.checked("endpoint", check.bareHost, when),
                insecure: config.boolean("insecure"),
                region: config.isSet("region") ? config.string("region") : undefined,
                accessKey: config.secret("accessKey", when),
                secretKey: config.secret("secretKey", when),
            };
        case "azure": {
            const storage = {
                provider,
                bucketName: config.checked("bucketName", check.azureContainerName, when),
                endpoint: config.checked("endpoint", check.azureEndpoint, when),
                accountKey: config.isSet("azureAccountKey") ? config.secret("azureAccountKey") : undefined,
                sasKey: config.isSet("azureSasKey") ? config.secret("azureSasKey") : undefined,
            };
            if (!storage.accountKey === !storage.sasKey) {
                config.fail("azureAccountKey", `or flux-bucket:azureSasKey is required ${when}; set exactly one of the two`);
            }
            return storage;
        }
    }
}

/** Whether the cluster's service account tokens can be trusted by the bucket's cloud: the condition for workload identity. */
function trustsCluster(cluster: ClusterConfig, provider: FluxBucketProvider): boolean {
    switch (cluster.kind) {
        case "eks":
            return provider === "aws";
        case "gke":
            return provider === "gcp";
        case "existing":
            return (provider === "aws" && cluster.oidcProviderArn !== undefined) || (provider === "gcp" && cluster.workloadPool !== undefined);
        case "civo":
            return false;
    }
}

function readAuth(config: ConfigReader, cluster: ClusterConfig, provider: FluxBucketProvider): Auth {
    const possible = trustsCluster(cluster, provider);
    const auth = (config.string("auth") as Auth | undefined) ?? (possible ? "workload-identity" : "keys");
    if (auth === "workload-identity" && !possible) {
        config.fail(
            "auth",
            `is "workload-identity", which needs a cluster whose service accounts the bucket's cloud can trust: for provider aws, cluster eks or ` +
                `existing with flux-bucket:clusterOidcProvider; for provider gcp, cluster gke or existing with flux-bucket:clusterWorkloadPool. ` +
                `This stack has cluster ${cluster.kind} and provider ${provider}: set auth to keys, or change the cluster`,
        );
    }
    return auth;
}

function readGithub(config: ConfigReader, provider: FluxBucketProvider): InfraConfig["github"] {
    const dependents = (["githubBranch", "githubEnvironment", "githubOidcProvider", "githubRepositoryId", "githubOwnerId", "githubSubjects"] as const).filter((key) =>
        config.isSet(key),
    );
    if (!config.isSet("githubRepository")) {
        for (const key of dependents) config.fail(key, "needs flux-bucket:githubRepository, the repository whose GitHub Actions it is for");
        return undefined;
    }
    if (!PROVIDERS[provider].provisioned) {
        config.fail("githubRepository", `needs a bucket this stack provisions (provider aws or gcp), not ${provider}`);
    }
    if (config.isSet("githubOidcProvider") && provider !== "aws") config.fail("githubOidcProvider", `is for provider aws, not ${provider}`);
    if (config.isSet("githubBranch") && config.isSet("githubEnvironment")) {
        config.fail("githubBranch", "cannot be set together with flux-bucket:githubEnvironment: the writer trusts jobs of the environment, whatever their branch");
    }
    const repository = config.checked("githubRepository", check.githubRepository) ?? "";
    const subjects = config.string("githubSubjects") as GithubSubjectFormat;
    const missing = (["githubRepositoryId", "githubOwnerId"] as const).filter((key) => !config.isSet(key));
    if (subjects !== "name" && missing.length > 0) {
        config.fail(
            missing.join(" and flux-bucket:"),
            `${missing.length > 1 ? "are" : "is"} required with flux-bucket:githubSubjects ${subjects}${config.isSet("githubSubjects") ? "" : " (the default)"}: ` +
                "GitHub's immutable subjects (repo:OWNER@OWNER_ID/REPO@REPO_ID:…, the default for repositories created, renamed or transferred " +
                `from 2026-07-15 on) carry the repository's and its owner's ids; find them with gh api repos/${repository || "OWNER/REPO"} --jq '.id, .owner.id', ` +
                "or set flux-bucket:githubSubjects to name for a repository whose tokens still name it by name only",
        );
    } else if (missing.length === 1) {
        // With subjects by name the ids are optional, but the attribute condition on GCP pins both or neither.
        config.fail(missing[0], `is required with flux-bucket:${missing[0] === "githubOwnerId" ? "githubRepositoryId" : "githubOwnerId"}: give both ids (gh api repos/${repository || "OWNER/REPO"} --jq '.id, .owner.id') or neither`);
    }
    const repositoryId = config.checked("githubRepositoryId", check.githubId);
    const ownerId = config.checked("githubOwnerId", check.githubId);
    return {
        repository,
        ids: repositoryId !== undefined && ownerId !== undefined ? { repository: repositoryId, owner: ownerId } : undefined,
        subjects,
        branch: config.checked("githubBranch", check.gitBranch),
        environment: config.checked("githubEnvironment", check.githubEnvironment),
        oidcProviderArn: config.checked("githubOidcProvider", check.oidcProviderArn),
    };
}

/** Reads and validates the infra layer's config; throws one ConfigError naming every bad key. */
export function readInfraConfig(config: ConfigReader): InfraConfig {
    const provider = (config.string("provider") ?? "aws") as FluxBucketProvider;
    const cluster = readCluster(config, provider);
    const infra: InfraConfig = {
        cluster,
        storage: readStorage(config, provider),
        auth: readAuth(config, cluster, provider),
        fluxNamespace: config.checked("fluxNamespace", check.kubernetesName),
        github: readGithub(config, provider),
    };
    config.done();
    return infra;
}
