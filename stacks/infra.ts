import * as pulumi from "@pulumi/pulumi";
import type * as awsComponents from "../components/aws/index.ts";
import { Cluster } from "../components/civo/index.ts";
import type { EnvironmentIdentities } from "../components/environments.ts";
import type * as gcpComponents from "../components/gcp/index.ts";
import type { EnvironmentOutputs, InfraOutputs } from "../src/bucket/outputs.ts";
import type { ClusterConfig, InfraConfig, StorageConfig } from "./config/infra.ts";

/** What the infra stack exports for the flux stack and for `bucketops` (src/bucket/outputs.ts); every credential is a secret. */
export type InfraStackOutputs = InfraOutputs<pulumi.Input<string>, pulumi.Output<string>, pulumi.Output<Record<string, EnvironmentOutputs>>>;

const TAGS = { "managed-by": "pulumi", "part-of": "flux-bucket" };

function cluster(config: ClusterConfig): pulumi.Output<string> {
    if (config.kind === "existing") return config.kubeconfig;
    const { region, nodeSize, nodeCount, kubernetesVersion } = config;
    return new Cluster("cluster", { region, nodeSize, nodeCount, kubernetesVersion }).kubeconfig;
}

type StorageOutputs = Omit<InfraStackOutputs, "kubeconfig">;

type Credentials = Record<string, pulumi.Output<string>>;

interface ProvisionedIdentities<Identity> {
    reader?: Identity;
    writer?: Identity;
    environments: Record<string, EnvironmentIdentities<Identity>>;
}

/**
 * The credential outputs: whole-bucket ones as top-level secrets; per environment, the prefixes in the clear
 * and every environment's credentials in one secret map.
 */
function credentialOutputs<Identity>(
    bucket: ProvisionedIdentities<Identity>,
    keys: (reader: Identity, writer: Identity) => Credentials,
): Partial<StorageOutputs> {
    if (bucket.reader && bucket.writer) {
        return Object.fromEntries(Object.entries(keys(bucket.reader, bucket.writer)).map(([key, value]) => [key, pulumi.secret(value)]));
    }
    const entries = Object.entries(bucket.environments);
    return {
        environmentPrefixes: Object.fromEntries(entries.map(([name, { prefix }]) => [name, prefix])),
        environments: pulumi.secret(
            pulumi.output(Object.fromEntries(entries.map(([name, { prefix, reader, writer }]) => [name, { prefix, ...keys(reader, writer) }]))),
        ) as pulumi.Output<Record<string, EnvironmentOutputs>>,
    };
}

// Each cloud's SDK is loaded only by the stacks that use it: loading one takes a good part of a second.
async function storage(config: StorageConfig): Promise<StorageOutputs> {
    switch (config.provider) {
        case "aws": {
            const [aws, { FluxBucket }] = await Promise.all([import("@pulumi/aws"), import("../components/aws/index.ts")]);
            const { region, bucketName, noncurrentVersionDays, forceDestroy, environments } = config;
            const provider = new aws.Provider("aws", { region, defaultTags: { tags: TAGS } });
            const bucket = new FluxBucket(
                "bucket",
                { bucketName, noncurrentVersionDays, forceDestroy, environments },
                { providers: [provider] },
            );
            const keys = (reader: awsComponents.BucketCredentials, writer: awsComponents.BucketCredentials) => ({
                readerAccessKeyId: reader.accessKeyId,
                readerSecretAccessKey: reader.secretAccessKey,
                writerAccessKeyId: writer.accessKeyId,
                writerSecretAccessKey: writer.secretAccessKey,
            });
            return {
                provider: "aws",
                bucketName: bucket.bucketName,
                endpoint: bucket.endpoint,
                region: bucket.region,
                insecure: false,
                ...credentialOutputs(bucket, keys),
            };
        }
        case "gcp": {
            const { FluxBucket } = await import("../components/gcp/index.ts");
            const { project, location, bucketName, noncurrentVersionDays, forceDestroy, environments } = config;
            const bucket = new FluxBucket("bucket", {
                project,
                location,
                bucketName,
                noncurrentVersionDays,
                forceDestroy,
                labels: TAGS,
                environments,
            });
            const keys = (reader: gcpComponents.BucketCredentials, writer: gcpComponents.BucketCredentials) => ({
                readerServiceAccountKey: reader.serviceAccountKey,
                writerServiceAccountKey: writer.serviceAccountKey,
            });
            return {
                provider: "gcp",
                bucketName: bucket.bucketName,
                endpoint: bucket.endpoint,
                insecure: false,
                ...credentialOutputs(bucket, keys),
            };
        }
        case "generic":
            return {
                provider: "generic",
                bucketName: config.bucketName,
                endpoint: config.endpoint,
                region: config.region,
                insecure: config.insecure,
                readerAccessKeyId: config.accessKey,
                readerSecretAccessKey: config.secretKey,
            };
        case "azure":
            return {
                provider: "azure",
                bucketName: config.bucketName,
                endpoint: config.endpoint,
                insecure: false,
                readerAzureAccountKey: config.accountKey,
                readerAzureSasKey: config.sasKey,
            };
    }
}

/**
 * The infra layer: the cluster and, for aws and gcp, the versioned bucket with a read-only identity for Flux
 * and a writer for uploads. generic and azure buckets are not provisioned: their details pass through from config.
 */
export async function infraStack(config: InfraConfig): Promise<InfraStackOutputs> {
    return { ...(await storage(config.storage)), kubeconfig: pulumi.secret(cluster(config.cluster)) };
}
