import * as pulumi from "@pulumi/pulumi";
import type { BucketSourceCredentials,FluxBucketProvider } from "../components/flux/index.ts";
import { ConfigError } from "./config/errors.ts";
import { PROVIDERS } from "./config/declarations.ts";
import type { EnvironmentOutputs, InfraOutputs } from "./infra.ts";

/** The infra stack's outputs as the flux stack uses them. */
export interface InfraReference {
    provider: FluxBucketProvider;
    bucketName: pulumi.Output<string>;
    endpoint: pulumi.Output<string>;
    region?: pulumi.Output<string>;
    insecure: boolean;
    /** Unset when the flux stack brings its own cluster and the infra stack has none. */
    kubeconfig?: pulumi.Output<string>;
    credentials: BucketSourceCredentials;
    /** The environment's prefix, when one was asked for. */
    prefix?: string;
}

type OutputName = keyof InfraOutputs;
type CredentialName = Exclude<keyof EnvironmentOutputs, "prefix">;
type ReaderCredentialName = CredentialName | "readerAzureAccountKey" | "readerAzureSasKey";

const BUCKET_OUTPUTS: Record<FluxBucketProvider, OutputName[]> = {
    aws: ["bucketName", "endpoint", "region"],
    gcp: ["bucketName", "endpoint"],
    generic: ["bucketName", "endpoint"],
    azure: ["bucketName", "endpoint"],
};

const READER_CREDENTIALS: Record<FluxBucketProvider, CredentialName[]> = {
    aws: ["readerAccessKeyId", "readerSecretAccessKey"],
    gcp: ["readerServiceAccountKey"],
    generic: ["readerAccessKeyId", "readerSecretAccessKey"],
    azure: [],
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
    "environments",
];

export interface InfraReferenceOptions {
    /** Sync this environment of the infra stack instead of the whole bucket. */
    environment?: string;
    /** The flux stack brings its own cluster, so the infra stack's kubeconfig is not needed. */
    ownCluster?: boolean;
    /** The flux stack's file, which a problem names. */
    file?: string;
}

function credentialsOf(
    provider: FluxBucketProvider,
    value: (name: ReaderCredentialName) => pulumi.Output<string>,
    has: (name: ReaderCredentialName) => boolean,
): BucketSourceCredentials {
    switch (provider) {
        case "gcp":
            return { serviceAccountKey: value("readerServiceAccountKey") };
        case "azure":
            return has("readerAzureAccountKey") ? { azureAccountKey: value("readerAzureAccountKey") } : { azureSasKey: value("readerAzureSasKey") };
        default:
            return { accessKey: value("readerAccessKeyId"), secretKey: value("readerSecretAccessKey") };
    }
}

/**
 * Reads the infra stack through a StackReference and checks, before anything is created, that it has every
 * output this provider (and environment) needs; a missing one fails naming the stack and the outputs.
 */
export async function readInfraReference(stackName: string, options: InfraReferenceOptions = {}): Promise<InfraReference> {
    const stack = new pulumi.StackReference("infra", { name: stackName });
    const details = new Map(await Promise.all(READ.map(async (name) => [name, await stack.getOutputDetails(name)] as const)));
    const plain = (name: OutputName) => details.get(name)?.value ?? details.get(name)?.secretValue;
    const has = (name: OutputName) => plain(name) !== undefined;
    const fail = (problem: string) => new ConfigError([`flux-bucket:infraStack "${stackName}" ${problem}`], options.file);

    const provider = details.get("provider")?.value as FluxBucketProvider | undefined;
    if (provider === undefined) throw fail("has no output provider; run `pulumi up` on the infra stack first");
    if (!PROVIDERS.includes(provider)) throw fail(`has provider "${provider}"; allowed: ${PROVIDERS.join(", ")}`);

    const environments = plain("environments") as Record<string, EnvironmentOutputs> | undefined;
    const { environment } = options;
    if (environment !== undefined) {
        if (environments === undefined) throw fail(`has no environments, so flux-bucket:environment "${environment}" cannot be synced; unset it or list it in the infra stack's flux-bucket:environments`);
        if (!(environment in environments)) {
            throw fail(`has no environment "${environment}"; allowed: ${Object.keys(environments).join(", ")}`);
        }
    } else if (environments !== undefined) {
        throw fail(`splits its bucket into environments; set flux-bucket:environment to one of ${Object.keys(environments).join(", ")}`);
    }

    const scoped = environment !== undefined ? environments![environment] : undefined;
    const absent: string[] = [
        ...BUCKET_OUTPUTS[provider].filter((name) => !has(name)),
        ...(options.ownCluster || has("kubeconfig") ? [] : ["kubeconfig"]),
        ...READER_CREDENTIALS[provider]
            .filter((name) => (scoped ? scoped[name] === undefined : !has(name)))
            .map((name) => (scoped ? `environments.${environment}.${name}` : name)),
    ];
    if (provider === "azure" && !has("readerAzureAccountKey") && !has("readerAzureSasKey")) absent.push("readerAzureAccountKey or readerAzureSasKey");
    if (absent.length > 0) {
        throw fail(`lacks the output${absent.length > 1 ? "s" : ""} ${absent.join(", ")} needed for provider ${provider}`);
    }

    const output = (name: OutputName) => stack.requireOutput(name) as pulumi.Output<string>;
    const credential = (name: ReaderCredentialName) =>
        pulumi.secret(scoped ? (stack.requireOutput("environments").apply((all) => all[environment!][name]) as pulumi.Output<string>) : output(name));
    return {
        provider,
        bucketName: output("bucketName"),
        endpoint: output("endpoint"),
        region: has("region") ? output("region") : undefined,
        insecure: details.get("insecure")?.value === true,
        kubeconfig: has("kubeconfig") ? pulumi.secret(output("kubeconfig")) : undefined,
        credentials: credentialsOf(provider, credential, has),
        prefix: scoped?.prefix,
    };
}
