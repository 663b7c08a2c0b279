import { readFileSync } from "node:fs";
import { normalizePrefix } from "../bucket/keys.ts";
import type { Credentials, EnvironmentOutputs, FluxOutputs, Identities, InfraOutputs } from "../bucket/outputs.ts";
import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import { PROVIDER_NAMES, PROVIDERS, providersOf, URL_SCHEMES, type ProviderFacts, type UrlScheme } from "../bucket/providers.ts";
import { CliError, UsageError } from "./errors.ts";
import type { ClusterFlags } from "./flags.ts";
import { openStore } from "./store/index.ts";
import { DEFAULT_TIMEOUTS, type NetworkTimeouts, type ObjectStore } from "./store/types.ts";
import { parseBucketUrl } from "./url.ts";

/** Connection flags shared by every command that talks to the bucket. */
export interface ConnectionFlags {
    endpoint?: string;
    region?: string;
    insecure?: boolean;
    profile?: string;
    /** Stack output files (infra, flux), merged: their output names do not overlap. */
    fromStackOutputs?: string[];
    /** Stack outputs already in memory (`npm run up` hands over what Pulumi returned, never writing it to disk). */
    stackOutputs?: StackOutputs;
    conditionalWrites?: boolean;
    /** Seconds to connect, and for a request's answer. */
    connectTimeout: number;
    timeout: number;
}

/**
 * The stack outputs bucketops reads (src/bucket/outputs.ts), as `pulumi stack output --json --show-secrets` prints
 * them: the infra stack's (endpoint, region, credentials, kubeconfig) and the flux stack's (namespace, Bucket name).
 */
export type StackOutputs = Partial<InfraOutputs & FluxOutputs>;

/**
 * Whether a write may publish atomically through a cluster (openPublication): a kubeconfig is given (--kubeconfig, or
 * the stack outputs, `outputs`: stackOutputsOf these flags) or KUBECONFIG is set, and not --no-cluster. A write
 * without one loads nothing of the cluster's.
 */
export function clusterAccessOf(flags: Pick<ClusterFlags, "cluster" | "kubeconfig">, outputs: StackOutputs): { given: boolean; any: boolean } {
    const given = Boolean(flags.kubeconfig || outputs.kubeconfig);
    return { given, any: flags.cluster !== false && (given || Boolean(process.env.KUBECONFIG)) };
}

/** The stack outputs of `--from-stack-outputs` files and of `stackOutputs`, merged. */
export function stackOutputsOf(flags: Pick<ConnectionFlags, "fromStackOutputs" | "stackOutputs">): StackOutputs {
    return Object.assign({}, ...(flags.fromStackOutputs ?? []).map(readStackOutputFile), flags.stackOutputs) as StackOutputs;
}

function readStackOutputFile(file: string): StackOutputs {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
        throw new UsageError(
            `cannot read stack outputs '${file}': ${(error as Error).message}; ` +
                `expected the JSON of 'pulumi stack output --json --show-secrets'`,
        );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new UsageError(`stack outputs '${file}' must be a JSON object of output names to values`);
    }
    return parsed as StackOutputs;
}

/** Opens the store for a bucket URL: flags first, then the stack outputs, then the SDKs' own chains. `warn`: retry lines (stderr). */
export function connect(urlText: string, flags: ConnectionFlags, warn?: (line: string) => void, as?: string): Promise<ObjectStore> {
    const url = parseBucketUrl(urlText);
    const outputs = stackOutputsOf(flags);
    if (outputs.provider && !providersOf(url.scheme).includes(outputs.provider)) {
        const supported = URL_SCHEMES.map((scheme) => `${providersOf(scheme).join(" and ")} (${scheme}://)`).join(", ");
        throw new UsageError(`stack outputs are for provider '${outputs.provider}' but the URL is ${urlText}; bucketops supports ${supported}`);
    }
    const { credentials, hint } = stackCredentials(outputs, as === undefined ? url.prefix : parseBucketUrl(as).prefix, flags, url.scheme, as !== undefined);
    const serviceAccountKey = credentials.writerServiceAccountKey ?? credentials.readerServiceAccountKey;
    return openStore(url, {
        endpoint: flags.endpoint ?? outputs.endpoint,
        insecure: flags.insecure ?? outputs.insecure,
        region: flags.region ?? outputs.region,
        profile: flags.profile,
        accessKeyId: credentials.writerAccessKeyId ?? credentials.readerAccessKeyId,
        secretAccessKey: credentials.writerSecretAccessKey ?? credentials.readerSecretAccessKey,
        serviceAccountKey,
        conditionalWrites: flags.conditionalWrites,
        timeouts: timeoutsOf(flags),
        accessHint: hint,
        warn,
    });
}

export function timeoutsOf(flags: Pick<ConnectionFlags, "connectTimeout" | "timeout">): NetworkTimeouts {
    return { connectMs: flags.connectTimeout * 1000, requestMs: flags.timeout * 1000, attempts: DEFAULT_TIMEOUTS.attempts };
}

/**
 * The credentials for a prefix: the writer's (a generic bucket's one key pair is exported as the
 * reader's); with per-environment credentials, those of the environment whose prefix holds it. The hint says
 * where they came from, for an access-denied message.
 */
function stackCredentials(
    outputs: StackOutputs,
    prefix: string,
    flags: ConnectionFlags,
    scheme: UrlScheme,
    promoting = false,
): { credentials: Credentials<string>; hint: string } {
    if (!outputs.environments || outputs.writerAccessKeyId || outputs.writerServiceAccountKey) {
        return { credentials: outputs, hint: credentialsHint(outputs, flags, scheme) };
    }
    const folder = normalizePrefix(prefix);
    const environments = Object.entries(outputs.environments);
    const match = environments.find(([, environment]) => folder.startsWith(normalizePrefix(environment.prefix)));
    if (!match) {
        const known = environments.map(([name, environment]) => `${name} (${environment.prefix})`).join(", ");
        throw new UsageError(
            `the stack outputs hold credentials per environment; prefix '${prefix}' is in none of: ${known}. ` +
                `Name an environment's prefix in the URL (s3://<bucket>/<prefix>)`,
        );
    }
    const [name, environment] = match;
    if (!holdsKeys(environment)) return { credentials: environment, hint: credentialsHint(environment, flags, scheme, name) };
    return {
        credentials: environment,
        hint: promoting
            ? `These are environment ${name}'s credentials from the stack outputs (the environment promoted to), which may read ` +
              `another environment's keys only where the infra stack's promotions allow it (${name}=<environment>).`
            : `These are environment ${name}'s credentials from the stack outputs, which may only use keys under ` +
              `${environment.prefix} and read the root .sourceignore: check the URL's prefix.`,
    };
}

/** The outputs that hold a key bucketops can use (the others name keyless identities). */
const KEY_OUTPUTS = ["writerAccessKeyId", "writerServiceAccountKey", "readerAccessKeyId", "readerServiceAccountKey"] as const;

const holdsKeys = (credentials: Credentials<string>) => KEY_OUTPUTS.some((key) => credentials[key] !== undefined);

/**
 * Where keyless outputs say the credentials should come from: the SDK's chain, which in a GitHub Actions job holds
 * the CI identity the outputs name (aws-actions/configure-aws-credentials or google-github-actions/auth).
 */
function keylessHint(outputs: Identities<string>, environment?: string): string {
    const writer = outputs.ciWriterRoleArn ?? outputs.ciWriterServiceAccount;
    const reader = outputs.ciReaderRoleArn ?? outputs.ciReaderServiceAccount;
    const scope = environment === undefined ? "" : ` for environment ${environment}`;
    if (writer === undefined) return ` The stack outputs hold no keys${scope} (auth workload-identity): use an identity of your own that may write the bucket.`;
    return ` The stack outputs hold no keys${scope}: in GitHub Actions, pushes write as ${writer}${reader ? ` and pull requests read as ${reader}` : ""}.`;
}

function credentialsHint(outputs: StackOutputs | EnvironmentOutputs, flags: ConnectionFlags, scheme: UrlScheme, environment?: string): string {
    if (outputs.writerAccessKeyId || outputs.writerServiceAccountKey) {
        return "These are the stack outputs' writer credentials: check that the outputs are this bucket's infra stack's.";
    }
    if (outputs.readerAccessKeyId || outputs.readerServiceAccountKey) {
        return "These are the stack outputs' reader credentials, which may only read: pushes and rollbacks need the writer's.";
    }
    const chain = scheme === "gs" ? "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud)" : `the AWS SDK's chain (${awsChainSource(flags)})`;
    const keyless = "auth" in outputs ? outputs.auth === "workload-identity" : environment !== undefined;
    return (
        `The credentials came from ${chain}: check which identity that is and what its policy allows` +
        (keyless ? `.${keylessHint(outputs, environment)}` : `, or pass --from-stack-outputs with the infra stack's outputs.`)
    );
}

/**
 * Which link of the AWS SDK's default chain the credentials most likely came from: a profile, keys in the environment,
 * or web identity (AWS_ROLE_ARN with a token file, as IRSA and GitHub Actions set it), which the chain tries after them.
 */
function awsChainSource(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): string {
    if (flags.profile) return `profile ${flags.profile}`;
    if (!env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE && env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE) return `web identity: the role ${env.AWS_ROLE_ARN}`;
    return "AWS_ACCESS_KEY_ID, AWS_PROFILE, the instance's role";
}

/** The stores one run opened, closed together when it ends (their kept-alive sockets would hold the process). */
export class Stores {
    private readonly opened: ObjectStore[] = [];
    private readonly warn?: (line: string) => void;

    /** `warn`: where the stores say that a request is tried again (stderr by default). */
    constructor(warn?: (line: string) => void) {
        this.warn = warn;
    }

    /** `as`: another URL whose credentials to use (promote reads the source with the target environment's). */
    async open(url: string, flags: ConnectionFlags, as?: string): Promise<ObjectStore> {
        const store = await connect(url, flags, this.warn, as);
        this.opened.push(store);
        return store;
    }

    closeAll(): void {
        for (const store of this.opened.splice(0)) store.close();
    }
}

/** Opens a bucket URL with connection flags (Stores.open, or a test's). */
export type OpenStore = (url: string, flags: ConnectionFlags) => Promise<ObjectStore>;

/** The bucket as a Flux Bucket's spec describes it (`label` names the Bucket); the connection flags override its endpoint and region. */
export async function bucketStore(spec: IBucketSpec, label: string, options: ConnectionFlags, open: OpenStore): Promise<{ store: ObjectStore; url: string }> {
    const provider = spec.provider ?? "generic"; // the CRD's default
    const scheme = (PROVIDERS[provider] as ProviderFacts).scheme;
    if (!scheme) {
        const readable = PROVIDER_NAMES.filter((name) => (PROVIDERS[name] as ProviderFacts).scheme !== undefined);
        throw new CliError(`${label} uses provider '${provider}'; bucketops reads ${readable.join(", ")} buckets`);
    }
    const url = `${scheme}://${spec.bucketName}/${spec.prefix ?? ""}`;
    const store = await open(url, {
        ...options,
        endpoint: options.endpoint ?? (scheme === "s3" ? spec.endpoint : undefined),
        insecure: options.insecure ?? spec.insecure,
        region: options.region ?? spec.region,
    });
    return { store, url };
}
