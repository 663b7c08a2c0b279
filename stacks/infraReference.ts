import * as pulumi from "@pulumi/pulumi";
import type { FluxBucketProvider } from "../src/bucket/flux.ts";
import type { EnvironmentOutputs, InfraOutputName } from "../src/bucket/outputs.ts";
import { type Credential, type CredentialArgs, isProvider, PROVIDER_NAMES, PROVIDERS, type ReaderOutputName } from "../src/bucket/providers.ts";
import { ConfigError } from "./config/errors.ts";

type CredentialSet = readonly Credential[];

const credentialSets = (provider: FluxBucketProvider): readonly CredentialSet[] => PROVIDERS[provider].credentials;

/** Every output that holds a reader's credentials, for some provider. */
const READER_OUTPUTS = [...new Set(PROVIDER_NAMES.flatMap((provider) => credentialSets(provider).flat().map((credential) => credential.readerOutput)))];

/** The infra stack's outputs as the flux stack uses them. */
export interface InfraReference {
    provider: FluxBucketProvider;
    bucketName: pulumi.Output<string>;
    endpoint: pulumi.Output<string>;
    region?: pulumi.Output<string>;
    insecure: boolean;
    /** Unset when the flux stack brings its own cluster and the infra stack has none. */
    kubeconfig?: pulumi.Output<string>;
    /** The reader's credentials, as BucketSync takes them. */
    credentials: CredentialArgs<pulumi.Output<string>>;
    /** The environment's prefix, when one was asked for. */
    prefix?: string;
}

/** Every output a flux stack may need; which ones it does depends on the provider (PROVIDERS) and the environment. */
const READ: InfraOutputName[] = ["provider", "bucketName", "endpoint", "region", "insecure", "kubeconfig", "environments", ...READER_OUTPUTS];

export interface InfraReferenceOptions {
    /** Sync this environment of the infra stack instead of the whole bucket. */
    environment?: string;
    /** The flux stack brings its own cluster, so the infra stack's kubeconfig is not needed. */
    ownCluster?: boolean;
    /** The flux stack's file, which a problem names. */
    file?: string;
}

/** The BucketSync credentials of the provider's first credential set whose outputs are all there. */
function credentialsOf(
    provider: FluxBucketProvider,
    value: (name: ReaderOutputName) => pulumi.Output<string>,
    has: (name: ReaderOutputName) => boolean,
): CredentialArgs<pulumi.Output<string>> {
    const sets = credentialSets(provider);
    const present = sets.find((set) => set.every((credential) => has(credential.readerOutput))) ?? sets[0];
    return Object.fromEntries(present.map((credential) => [credential.arg, value(credential.readerOutput)])) as CredentialArgs<pulumi.Output<string>>;
}

/**
 * Reads the infra stack through a StackReference and checks, before anything is created, that it has every
 * output this provider (and environment) needs; a missing one fails naming the stack and the outputs.
 */
export async function readInfraReference(stackName: string, options: InfraReferenceOptions = {}): Promise<InfraReference> {
    const stack = new pulumi.StackReference("infra", { name: stackName });
    const details = new Map(await Promise.all(READ.map(async (name) => [name, await stack.getOutputDetails(name)] as const)));
    const plain = (name: InfraOutputName) => details.get(name)?.value ?? details.get(name)?.secretValue;
    const has = (name: InfraOutputName) => plain(name) !== undefined;
    const fail = (problem: string) => new ConfigError([`flux-bucket:infraStack "${stackName}" ${problem}`], options.file);

    const provider = details.get("provider")?.value as string | undefined;
    if (provider === undefined) throw fail("has no output provider; run `pulumi up` on the infra stack first");
    if (!isProvider(provider)) throw fail(`has provider "${provider}"; allowed: ${PROVIDER_NAMES.join(", ")}`);

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
    const hasReader = (name: ReaderOutputName) => (scoped ? scoped[name] !== undefined : has(name));
    const sets = credentialSets(provider);
    const absent: string[] = [
        ...PROVIDERS[provider].bucketOutputs.filter((name) => !has(name)),
        ...(options.ownCluster || has("kubeconfig") ? [] : ["kubeconfig"]),
        ...(sets.some((set) => set.every((credential) => hasReader(credential.readerOutput)))
            ? []
            : [
                  sets
                      .map((set) =>
                          set
                              .filter((credential) => !hasReader(credential.readerOutput))
                              .map((credential) => (scoped ? `environments.${environment}.${credential.readerOutput}` : credential.readerOutput))
                              .join(", "),
                      )
                      .join(" or "),
              ]),
    ];
    if (absent.length > 0) {
        throw fail(`lacks the output${absent.length > 1 ? "s" : ""} ${absent.join(", ")} needed for provider ${provider}`);
    }

    const output = (name: InfraOutputName) => stack.requireOutput(name) as pulumi.Output<string>;
    const credential = (name: ReaderOutputName) =>
        pulumi.secret(scoped ? (stack.requireOutput("environments").apply((all) => all[environment!][name]) as pulumi.Output<string>) : output(name));
    return {
        provider,
        bucketName: output("bucketName"),
        endpoint: output("endpoint"),
        region: has("region") ? output("region") : undefined,
        insecure: details.get("insecure")?.value === true,
        kubeconfig: has("kubeconfig") ? pulumi.secret(output("kubeconfig")) : undefined,
        credentials: credentialsOf(provider, credential, hasReader),
        prefix: scoped?.prefix,
    };
}
