import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as awsComponents from "../components/aws";
import { Cluster } from "../components/civo";
import * as gcpComponents from "../components/gcp";
import { ClusterConfig, InfraConfig, StorageConfig } from "./config/infra";

/** What the infra stack exports for the flux stack and for `bucketops`; every credential is a secret. */
export interface InfraOutputs {
    provider: string;
    bucketName: pulumi.Input<string>;
    endpoint: pulumi.Input<string>;
    region?: pulumi.Input<string>;
    insecure: boolean;
    kubeconfig: pulumi.Output<string>;
    readerAccessKeyId?: pulumi.Output<string>;
    readerSecretAccessKey?: pulumi.Output<string>;
    readerServiceAccountKey?: pulumi.Output<string>;
    readerAzureAccountKey?: pulumi.Output<string>;
    readerAzureSasKey?: pulumi.Output<string>;
    writerAccessKeyId?: pulumi.Output<string>;
    writerSecretAccessKey?: pulumi.Output<string>;
    writerServiceAccountKey?: pulumi.Output<string>;
}

const TAGS = { "managed-by": "pulumi", "part-of": "flux-bucket" };

function cluster(config: ClusterConfig): pulumi.Output<string> {
    if (config.kind === "existing") return config.kubeconfig;
    const { region, nodeSize, nodeCount, kubernetesVersion } = config;
    return new Cluster("cluster", { region, nodeSize, nodeCount, kubernetesVersion }).kubeconfig;
}

type StorageOutputs = Omit<InfraOutputs, "kubeconfig">;

function storage(config: StorageConfig): StorageOutputs {
    switch (config.provider) {
        case "aws": {
            const { region, bucketName, noncurrentVersionDays, forceDestroy } = config;
            const provider = new aws.Provider("aws", { region, defaultTags: { tags: TAGS } });
            const bucket = new awsComponents.FluxBucket("bucket", { bucketName, noncurrentVersionDays, forceDestroy }, { providers: [provider] });
            return {
                provider: "aws",
                bucketName: bucket.bucketName,
                endpoint: bucket.endpoint,
                region: bucket.region,
                insecure: false,
                readerAccessKeyId: pulumi.secret(bucket.reader.accessKeyId),
                readerSecretAccessKey: bucket.reader.secretAccessKey,
                writerAccessKeyId: pulumi.secret(bucket.writer.accessKeyId),
                writerSecretAccessKey: bucket.writer.secretAccessKey,
            };
        }
        case "gcp": {
            const { project, location, bucketName, noncurrentVersionDays, forceDestroy } = config;
            const bucket = new gcpComponents.FluxBucket("bucket", {
                project,
                location,
                bucketName,
                noncurrentVersionDays,
                forceDestroy,
                labels: TAGS,
            });
            return {
                provider: "gcp",
                bucketName: bucket.bucketName,
                endpoint: bucket.endpoint,
                insecure: false,
                readerServiceAccountKey: bucket.reader.serviceAccountKey,
                writerServiceAccountKey: bucket.writer.serviceAccountKey,
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
export function infraStack(config: InfraConfig): InfraOutputs {
    return { ...storage(config.storage), kubeconfig: pulumi.secret(cluster(config.cluster)) };
}
