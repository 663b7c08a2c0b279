import * as pulumi from "@pulumi/pulumi";
import { BucketSourceCredentials, FluxBucketProvider } from "../components/flux";
import { ConfigError } from "./config/errors";
import { PROVIDERS } from "./config/declarations";
import type { InfraOutputs } from "./infra";

/** The infra stack's outputs as the flux stack uses them. */
export interface InfraReference {
    provider: FluxBucketProvider;
    bucketName: pulumi.Output<string>;
    endpoint: pulumi.Output<string>;
    region?: pulumi.Output<string>;
    insecure: boolean;
    kubeconfig: pulumi.Output<string>;
    credentials: BucketSourceCredentials;
}

type OutputName = keyof InfraOutputs;

const REQUIRED: Record<FluxBucketProvider, OutputName[]> = {
    aws: ["bucketName", "endpoint", "region", "kubeconfig", "readerAccessKeyId", "readerSecretAccessKey"],
    gcp: ["bucketName", "endpoint", "kubeconfig", "readerServiceAccountKey"],
    generic: ["bucketName", "endpoint", "kubeconfig", "readerAccessKeyId", "readerSecretAccessKey"],
    azure: ["bucketName", "endpoint", "kubeconfig"],
};

const READ: OutputName[] = [
    "provider",
    "bucketName",
    "endpoint",
    "region",
    "insecure",
    "kubeconfig",
    "readerAccessKeyId",
    "readerSecretAccessKey",
    "readerServiceAccountKey",
    "readerAzureAccountKey",
    "readerAzureSasKey",
];

/**
 * Reads the infra stack through a StackReference and checks, before anything is created, that it has every
 * output this provider needs; a missing one fails naming the stack and the outputs.
 */
export async function readInfraReference(stackName: string): Promise<InfraReference> {
    const stack = new pulumi.StackReference("infra", { name: stackName });
    const details = new Map(await Promise.all(READ.map(async (name) => [name, await stack.getOutputDetails(name)] as const)));
    const has = (name: OutputName) => details.get(name)?.value !== undefined || details.get(name)?.secretValue !== undefined;
    const fail = (problem: string) => new ConfigError([`flux-bucket:infraStack "${stackName}" ${problem}`]);

    const provider = details.get("provider")?.value as FluxBucketProvider | undefined;
    if (provider === undefined) throw fail("has no output provider; run `pulumi up` on the infra stack first");
    if (!PROVIDERS.includes(provider)) throw fail(`has provider "${provider}"; allowed: ${PROVIDERS.join(", ")}`);
    const absent: string[] = REQUIRED[provider].filter((name) => !has(name));
    if (provider === "azure" && !has("readerAzureAccountKey") && !has("readerAzureSasKey")) {
        absent.push("readerAzureAccountKey or readerAzureSasKey");
    }
    if (absent.length > 0) {
        throw fail(`lacks the output${absent.length > 1 ? "s" : ""} ${absent.join(", ")} needed for provider ${provider}`);
    }

    const output = (name: OutputName) => stack.requireOutput(name) as pulumi.Output<string>;
    const secret = (name: OutputName) => pulumi.secret(output(name));
    const credentials: BucketSourceCredentials =
        provider === "gcp"
            ? { serviceAccountKey: secret("readerServiceAccountKey") }
            : provider === "azure"
              ? has("readerAzureAccountKey")
                  ? { azureAccountKey: secret("readerAzureAccountKey") }
                  : { azureSasKey: secret("readerAzureSasKey") }
              : { accessKey: secret("readerAccessKeyId"), secretKey: secret("readerSecretAccessKey") };
    return {
        provider,
        bucketName: output("bucketName"),
        endpoint: output("endpoint"),
        region: has("region") ? output("region") : undefined,
        insecure: details.get("insecure")?.value === true,
        kubeconfig: secret("kubeconfig"),
        credentials,
    };
}
