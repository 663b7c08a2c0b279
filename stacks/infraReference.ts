import * as pulumi from "@pulumi/pulumi";
import type { FluxBucketProvider } from "../src/bucket/flux.ts";
import { type Auth, GCP_WORKLOAD_IDENTITY_PROVIDER_ANNOTATION, parseServiceAccountId, type ServiceAccountRef } from "../src/bucket/identity.ts";
import type { EnvironmentOutputs, InfraOutputName } from "../src/bucket/outputs.ts";
import {
    type Credential,
    type CredentialArgs,
    isProvider,
    PROVIDER_NAMES,
    PROVIDERS,
    type ProviderFacts,
    type ReaderOutputName,
} from "../src/bucket/providers.ts";
import { ConfigError } from "./config/errors.ts";

type CredentialSet = readonly Credential[];

/** The outputs that name a reader's keyless identity and what it trusts. */
type IdentityOutputName = NonNullable<ProviderFacts["workloadIdentity"]>["readerOutput"] | "readerKubernetesServiceAccount" | "readerWorkloadIdentityProvider";

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
    /** The reader's credentials, as BucketSync takes them; unset with workload identity. */
    credentials?: CredentialArgs<pulumi.Output<string>>;
    auth: Auth;
    /**
     * With workload identity: the annotations that name the reader's cloud identity (and, for gcp outside GKE, the
     * Workload Identity Federation provider), and the service account it trusts.
     */
    workloadIdentity?: { annotations: Record<string, pulumi.Output<string>>; serviceAccount: ServiceAccountRef };
    /** The environment's prefix, when one was asked for. */
    prefix?: string;
}

/** Every output a flux stack may need; which ones it does depends on the provider (PROVIDERS) and the environment. */
const READ: InfraOutputName[] = [
    "provider",
    "auth",
    "bucketName",
    "endpoint",
    "region",
    "insecure",
    "kubeconfig",
    "environments",
    "readerKubernetesServiceAccount",
    "readerWorkloadIdentityProvider",
    ...READER_OUTPUTS,
    ...PROVIDER_NAMES.flatMap((provider) => (PROVIDERS[provider] as ProviderFacts).workloadIdentity?.readerOutput ?? []),
];

export interface InfraReferenceOptions {
    /** Sync this environment of the infra stack instead of the whole bucket. */
    environment?: string;
    /** The flux stack brings its own cluster, so the infra stack's kubeconfig is not needed. */
    ownCluster?: boolean;
    /** The flux stack's file, which a problem names. */
    file?: string;
    /** Flux's namespace in this stack: with workload identity it must be the one the infra stack's identities trust. */
    namespace?: string;
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
    const hasReader = (name: ReaderOutputName | IdentityOutputName) => (scoped ? scoped[name] !== undefined : has(name));
    const scopedName = (name: string) => (scoped ? `environments.${environment}.${name}` : name);
    const sets = credentialSets(provider);
    const auth = (details.get("auth")?.value as Auth | undefined) ?? "keys";
    const keyless = auth === "workload-identity" ? (PROVIDERS[provider] as ProviderFacts).workloadIdentity : undefined;
    if (auth === "workload-identity" && !keyless) throw fail(`has auth workload-identity, which Flux's ${provider} Bucket provider does not support here`);
    if (keyless && options.ownCluster) {
        throw fail(
            "lets Flux read with workload identity, which only its own cluster's service accounts can use; this stack installs on another " +
                "cluster (flux-bucket:kubeconfig): set flux-bucket:auth to keys on the infra stack, or install on its cluster",
        );
    }
    const identityOutputs: IdentityOutputName[] = keyless ? [keyless.readerOutput, "readerKubernetesServiceAccount"] : [];
    const absent: string[] = [
        ...PROVIDERS[provider].bucketOutputs.filter((name) => !has(name)),
        ...(options.ownCluster || has("kubeconfig") ? [] : ["kubeconfig"]),
        ...identityOutputs.filter((name) => !hasReader(name)).map(scopedName),
        ...(keyless || sets.some((set) => set.every((credential) => hasReader(credential.readerOutput)))
            ? []
            : [
                  sets
                      .map((set) =>
                          set
                              .filter((credential) => !hasReader(credential.readerOutput))
                              .map((credential) => scopedName(credential.readerOutput))
                              .join(", "),
                      )
                      .join(" or "),
              ]),
    ];
    if (absent.length > 0) {
        throw fail(`lacks the output${absent.length > 1 ? "s" : ""} ${absent.join(", ")} needed for provider ${provider}`);
    }

    const output = (name: InfraOutputName) => stack.requireOutput(name) as pulumi.Output<string>;
    const scopedOutput = (name: ReaderOutputName | IdentityOutputName) =>
        scoped ? (stack.requireOutput("environments").apply((all) => all[environment!][name]) as pulumi.Output<string>) : output(name);
    const credential = (name: ReaderOutputName) => pulumi.secret(scopedOutput(name));
    let workloadIdentity: InfraReference["workloadIdentity"];
    if (keyless) {
        const trusted = String(scoped ? scoped.readerKubernetesServiceAccount : plain("readerKubernetesServiceAccount"));
        const serviceAccount = parseServiceAccountId(trusted);
        const { namespace } = serviceAccount;
        if (options.namespace !== undefined && namespace !== options.namespace) {
            throw fail(
                `lets Flux read as the service account ${trusted}, in namespace ${namespace}; this stack's flux-bucket:fluxNamespace is ` +
                    `${options.namespace}: set the same flux-bucket:fluxNamespace in both stacks`,
            );
        }
        const annotations = { [keyless.annotation]: scopedOutput(keyless.readerOutput) };
        if (hasReader("readerWorkloadIdentityProvider")) annotations[GCP_WORKLOAD_IDENTITY_PROVIDER_ANNOTATION] = scopedOutput("readerWorkloadIdentityProvider");
        workloadIdentity = { annotations, serviceAccount };
    }
    return {
        provider,
        bucketName: output("bucketName"),
        endpoint: output("endpoint"),
        region: has("region") ? output("region") : undefined,
        insecure: details.get("insecure")?.value === true,
        kubeconfig: has("kubeconfig") ? pulumi.secret(output("kubeconfig")) : undefined,
        credentials: keyless ? undefined : credentialsOf(provider, credential, hasReader),
        auth,
        workloadIdentity,
        prefix: scoped?.prefix,
    };
}
