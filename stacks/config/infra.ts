import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../../components/environments.ts";
import * as check from "./checks.ts";
import type { FluxBucketProvider } from "../../src/bucket/flux.ts";
import { readEnvironments } from "./environments.ts";
import { ConfigReader } from "./reader.ts";

export type ClusterConfig =
    | { kind: "civo"; region: string; nodeSize: string; nodeCount: number; kubernetesVersion?: string }
    | { kind: "existing"; kubeconfig: pulumi.Output<string> };

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
}

function readCluster(config: ConfigReader): ClusterConfig {
    if (config.string("cluster") === "existing") {
        return { kind: "existing", kubeconfig: config.secret("kubeconfig", "when cluster is existing") };
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

/** Reads and validates the infra layer's config; throws one ConfigError naming every bad key. */
export function readInfraConfig(config: ConfigReader): InfraConfig {
    const provider = (config.string("provider") ?? "aws") as FluxBucketProvider;
    const infra = { cluster: readCluster(config), storage: readStorage(config, provider) };
    config.done();
    return infra;
}
