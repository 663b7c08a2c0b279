import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type * as awsComponents from "../components/aws/index.ts";
import { oidcIssuerOf } from "../components/aws/policies.ts";
import type { EnvironmentIdentities } from "../components/environments.ts";
import type * as gcpComponents from "../components/gcp/index.ts";
import { isEksIssuer, readerServiceAccount, serviceAccountId, WORKLOAD_IDENTITY_PROVIDER } from "../src/bucket/identity.ts";
import type { EnvironmentOutputs, InfraOutputs } from "../src/bucket/outputs.ts";
import type { ClusterConfig, InfraConfig, StorageConfig } from "./config/infra.ts";

/** What the infra stack exports for the flux stack and for `bucketops` (src/bucket/outputs.ts); every credential is a secret. */
export type InfraStackOutputs = InfraOutputs<pulumi.Input<string>, pulumi.Output<string>, pulumi.Output<Record<string, EnvironmentOutputs>>>;

const TAGS = { "managed-by": "pulumi", "part-of": "flux-bucket" };

/** The cluster, and what its service account tokens can be trusted through (workload identity). */
interface ClusterOutputs {
    kubeconfig: pulumi.Output<string>;
    /** aws: the IAM OIDC provider of its issuer. */
    oidcProviderArn?: pulumi.Input<string>;
    /** gcp: its workload pool. */
    workloadPool?: pulumi.Input<string>;
}

/**
 * The component modules of each cloud, each loaded only by the stacks that use it (and, through them, only the provider
 * SDK it needs). infraStack loads all of a stack's before it makes the first resource: see there.
 */
const componentModules = {
    aws: () => Promise.all([import("../components/aws/sdk.ts"), import("../components/aws/index.ts")]),
    civo: () => import("../components/civo/index.ts"),
    gcp: () => import("../components/gcp/index.ts"),
};
const CLUSTER_CLOUD = { civo: "civo", eks: "aws", gke: "gcp", existing: undefined } as const;

// Each provider SDK, the cluster's here and the bucket's in storage(), is loaded only by the stacks that use it: loading
// one takes a good part of a second (tests/render/render.test.ts checks which ones a render loads).
async function cluster(config: ClusterConfig): Promise<ClusterOutputs> {
    switch (config.kind) {
        case "existing":
            return config;
        case "civo": {
            const { Cluster } = await componentModules.civo();
            const { region, nodeSize, nodeCount, kubernetesVersion } = config;
            return { kubeconfig: new Cluster("cluster", { region, nodeSize, nodeCount, kubernetesVersion }).kubeconfig };
        }
        case "eks": {
            const [aws, { EksCluster }] = await componentModules.aws();
            const { region, instanceType, nodeCount, kubernetesVersion: version, subnetIds } = config;
            const provider = new aws.Provider("eks", { region, defaultTags: { tags: TAGS } });
            const eks = new EksCluster("cluster", { region, version, instanceType, nodeCount, subnetIds }, { providers: [provider] });
            return { kubeconfig: eks.kubeconfig, oidcProviderArn: eks.oidcProviderArn };
        }
        case "gke": {
            const { GkeCluster } = await componentModules.gcp();
            const { project, location, machineType, nodeCount, kubernetesVersion: version } = config;
            const gke = new GkeCluster("cluster", { project, location, version, machineType, nodeCount, labels: TAGS });
            return { kubeconfig: gke.kubeconfig, workloadPool: gke.workloadPool };
        }
    }
}

type StorageOutputs = Omit<InfraStackOutputs, "kubeconfig">;

/** One identity set's outputs: credentials (secrets) and keyless identities' names (in the clear). */
interface IdentityOutputs {
    secrets: Record<string, pulumi.Output<string> | undefined>;
    names: Record<string, pulumi.Input<string> | undefined>;
}

const defined = <T>(entries: Record<string, T | undefined>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as Record<string, T>;

/**
 * The identity outputs of a FluxBucket (either cloud's): whole-bucket ones at the top level (credentials as secrets);
 * per environment, the prefixes in the clear and every environment's identities in one map, a secret when it holds keys.
 */
function identityOutputs<Identities extends { reader?: unknown }>(
    bucket: Identities & { environments: Record<string, Identities & { prefix: string }> },
    outputsOf: (identities: Identities, environment?: string) => IdentityOutputs,
): Partial<StorageOutputs> {
    if (bucket.reader !== undefined) {
        const { secrets, names } = outputsOf(bucket);
        return { ...Object.fromEntries(Object.entries(defined(secrets)).map(([key, value]) => [key, pulumi.secret(value)])), ...defined(names) };
    }
    const entries = Object.entries(bucket.environments).map(([name, identities]) => [name, identities.prefix, outputsOf(identities, name)] as const);
    const map = pulumi.output(Object.fromEntries(entries.map(([name, prefix, { secrets, names }]) => [name, { prefix, ...defined(secrets), ...defined(names) }])));
    const holdsKeys = entries.some(([, , { secrets }]) => Object.keys(defined(secrets)).length > 0);
    return {
        environmentPrefixes: Object.fromEntries(entries.map(([name, prefix]) => [name, prefix])),
        environments: (holdsKeys ? pulumi.secret(map) : map) as pulumi.Output<Record<string, EnvironmentOutputs>>,
    };
}

/**
 * Whether the whole bucket's reader must trust a service account of its own that source-controller requests tokens for
 * (object-level), rather than source-controller's, because nothing on the cluster hands the controller its identity:
 * an existing cluster whose issuer is not EKS's (aws), or that reaches GCP through a Workload Identity Federation
 * provider rather than a GKE workload pool (gcp: fluxcd/pkg auth/gcp reads the provider annotation only from the
 * service account a token is requested for, provider.go:73-91 and 109-122 at auth/v0.38.5; the controller's own
 * token comes from GKE's metadata server).
 */
function objectLevel(config: InfraConfig): boolean {
    const { cluster } = config;
    if (cluster.kind !== "existing") return false;
    if (config.storage.provider === "aws") return cluster.oidcProviderArn !== undefined && !isEksIssuer(oidcIssuerOf(cluster.oidcProviderArn));
    return cluster.workloadPool !== undefined && WORKLOAD_IDENTITY_PROVIDER.test(cluster.workloadPool);
}

/** The Kubernetes service account a reader (the whole bucket's, or an environment's) trusts, as the outputs name it. */
const trustedServiceAccount = (config: InfraConfig, environment?: string) =>
    serviceAccountId(readerServiceAccount(config.fluxNamespace, environment, objectLevel(config)));

/** A project-wide id for this stack's resources (GCP pool ids: 4-32 characters, unique in the project for 30 days after deletion). */
const stackDigest = () => createHash("sha256").update([pulumi.getOrganization(), pulumi.getProject(), pulumi.getStack()].join("/")).digest("hex").slice(0, 8);

async function storage(config: InfraConfig, cluster: ClusterOutputs): Promise<StorageOutputs> {
    const storage: StorageConfig = config.storage;
    const keyless = config.auth === "workload-identity";
    const { github } = config;
    switch (storage.provider) {
        case "aws": {
            const [aws, { FluxBucket, GithubOidcProvider }] = await componentModules.aws();
            const { region, bucketName, noncurrentVersionDays, forceDestroy, environments } = storage;
            const provider = new aws.Provider("aws", { region, defaultTags: { tags: TAGS } });
            const githubProvider = github && (github.oidcProviderArn ?? new GithubOidcProvider("github", {}, { providers: [provider] }).arn);
            const bucket = new FluxBucket(
                "bucket",
                {
                    bucketName,
                    noncurrentVersionDays,
                    forceDestroy,
                    environments,
                    workloadIdentity: keyless ? { oidcProviderArn: cluster.oidcProviderArn!, namespace: config.fluxNamespace, objectLevel: objectLevel(config) } : undefined,
                    githubActions: github && { ...github, oidcProviderArn: githubProvider! },
                },
                { providers: [provider] },
            );
            type Identities = Partial<EnvironmentIdentities<awsComponents.Reader, awsComponents.BucketCredentials, awsComponents.BucketRole>>;
            const outputsOf = ({ reader, writer, ci }: Identities, environment?: string): IdentityOutputs => {
                const keys = reader && "accessKeyId" in reader ? reader : undefined;
                return {
                    secrets: {
                        readerAccessKeyId: keys?.accessKeyId,
                        readerSecretAccessKey: keys?.secretAccessKey,
                        writerAccessKeyId: writer?.accessKeyId,
                        writerSecretAccessKey: writer?.secretAccessKey,
                    },
                    names: {
                        readerRoleArn: keys ? undefined : (reader as awsComponents.BucketRole).roleArn,
                        readerKubernetesServiceAccount: keys ? undefined : trustedServiceAccount(config, environment),
                        ciWriterRoleArn: ci?.writer.roleArn,
                        ciReaderRoleArn: ci?.reader.roleArn,
                    },
                };
            };
            return {
                provider: "aws",
                auth: config.auth,
                bucketName: bucket.bucketName,
                endpoint: bucket.endpoint,
                region: bucket.region,
                insecure: false,
                forceDestroy,
                ...identityOutputs(bucket, outputsOf),
            };
        }
        case "gcp": {
            const { FluxBucket, GithubWorkloadIdentityPool } = await componentModules.gcp();
            const { project, location, bucketName, noncurrentVersionDays, forceDestroy, environments } = storage;
            const pool = github && new GithubWorkloadIdentityPool("github", { project, poolId: `fluxbucket-gh-${stackDigest()}`, trust: github });
            const bucket = new FluxBucket("bucket", {
                project,
                location,
                bucketName,
                noncurrentVersionDays,
                forceDestroy,
                labels: TAGS,
                environments,
                workloadIdentity: keyless ? { workloadPool: cluster.workloadPool!, namespace: config.fluxNamespace, objectLevel: objectLevel(config) } : undefined,
                githubActions: github && { ...github, workloadIdentityPool: pool!.poolName },
            });
            type Identities = Partial<EnvironmentIdentities<gcpComponents.BucketCredentials>>;
            const outputsOf = ({ reader, writer, ci }: Identities, environment?: string): IdentityOutputs => ({
                secrets: { readerServiceAccountKey: reader?.serviceAccountKey, writerServiceAccountKey: writer?.serviceAccountKey },
                names: {
                    readerServiceAccount: keyless ? reader?.email : undefined,
                    readerWorkloadIdentityProvider: keyless && objectLevel(config) ? cluster.workloadPool : undefined,
                    readerKubernetesServiceAccount: keyless ? trustedServiceAccount(config, environment) : undefined,
                    ciWriterServiceAccount: ci?.writer.email,
                    ciReaderServiceAccount: ci?.reader.email,
                },
            });
            return {
                provider: "gcp",
                auth: config.auth,
                bucketName: bucket.bucketName,
                endpoint: bucket.endpoint,
                insecure: false,
                forceDestroy,
                ciWorkloadIdentityProvider: pool?.providerName,
                ...identityOutputs(bucket, outputsOf),
            };
        }
        case "generic":
            return {
                provider: "generic",
                auth: "keys",
                bucketName: storage.bucketName,
                endpoint: storage.endpoint,
                region: storage.region,
                insecure: storage.insecure,
                readerAccessKeyId: storage.accessKey,
                readerSecretAccessKey: storage.secretKey,
            };
        case "azure":
            return {
                provider: "azure",
                auth: "keys",
                bucketName: storage.bucketName,
                endpoint: storage.endpoint,
                insecure: false,
                readerAzureAccountKey: storage.accountKey,
                readerAzureSasKey: storage.sasKey,
            };
    }
}

/**
 * The infra layer: the cluster and, for aws and gcp, the versioned bucket with a read-only identity for Flux (keys,
 * or a workload identity of the cluster's) and writers for uploads. generic and azure buckets are not provisioned:
 * their details pass through from config.
 */
export async function infraStack(config: InfraConfig): Promise<InfraStackOutputs> {
    // Every module the stack's resources come from is loaded before the first resource is made: a module loaded between
    // two resources (the bucket's after the cluster's) let the first one's registration get further, or not, as the
    // disk took its time, and the resources were recorded in either order (a render's resources.json differed between
    // a fresh process and one that had loaded the modules before).
    const clouds = new Set([CLUSTER_CLOUD[config.cluster.kind], config.storage.provider]);
    await Promise.all((["aws", "civo", "gcp"] as const).filter((cloud) => clouds.has(cloud)).map((cloud) => componentModules[cloud]()));
    const created = await cluster(config.cluster);
    return { ...(await storage(config, created)), kubeconfig: pulumi.secret(created.kubeconfig) };
}
