import type { FluxBucketProvider } from "./flux.ts";
import type { Credentials, Identities } from "./outputs.ts";

/** bucketops' URL schemes: `s3://` for S3 and S3-compatible stores, `gs://` for GCS. */
export type UrlScheme = "s3" | "gs";

/** What one provider means to every layer (model: flux's internal/flags/source_bucket_provider.go). */
export interface ProviderFacts {
    /** For messages, e.g. "GCS". */
    title: string;
    /** The bucketops URL scheme of its buckets; undefined: bucketops cannot reach them. */
    scheme?: UrlScheme;
    /** Whether the infra stack creates the bucket and its identities (else they come from config). */
    provisioned: boolean;
    /**
     * What source-controller reads from the Bucket's Secret, as alternatives (azure: an account key or a SAS token).
     * Each credential names its Secret data key, the BucketSync argument that takes it, and the infra stack output
     * that holds the reader's value.
     */
    credentials: readonly (readonly Credential[])[];
    /** The infra stack outputs the flux stack needs, besides the credentials and the kubeconfig. */
    bucketOutputs: readonly ("bucketName" | "endpoint" | "region")[];
    /**
     * Keyless reading (auth workload-identity), where Flux supports it for a bucket this project provisions: the
     * service account annotation that names the cloud identity (read by fluxcd/pkg/auth aws/options.go and
     * gcp/options.go at auth/v0.38.5, which source-controller v1.8.5 uses, and by the EKS pod identity webhook
     * and GKE for the controller's own) and the infra stack output that holds that identity.
     */
    workloadIdentity?: { annotation: string; readerOutput: Extract<keyof Identities<unknown>, `reader${string}`> };
}

export interface Credential {
    secretKey: string;
    arg: string;
    readerOutput: ReaderOutputName;
}

/** The infra stack outputs that hold the reader's credentials. */
export type ReaderOutputName = Extract<keyof Credentials<unknown>, `reader${string}`>;

const ACCESS_KEYS = [
    { secretKey: "accesskey", arg: "accessKey", readerOutput: "readerAccessKeyId" },
    { secretKey: "secretkey", arg: "secretKey", readerOutput: "readerSecretAccessKey" },
] as const;

export const PROVIDERS = {
    aws: {
        title: "S3",
        scheme: "s3",
        provisioned: true,
        credentials: [ACCESS_KEYS],
        bucketOutputs: ["bucketName", "endpoint", "region"],
        workloadIdentity: { annotation: "eks.amazonaws.com/role-arn", readerOutput: "readerRoleArn" },
    },
    gcp: {
        title: "GCS",
        scheme: "gs",
        provisioned: true,
        credentials: [[{ secretKey: "serviceaccount", arg: "serviceAccountKey", readerOutput: "readerServiceAccountKey" }]],
        bucketOutputs: ["bucketName", "endpoint"],
        workloadIdentity: { annotation: "iam.gke.io/gcp-service-account", readerOutput: "readerServiceAccount" },
    },
    generic: { title: "S3-compatible storage", scheme: "s3", provisioned: false, credentials: [ACCESS_KEYS], bucketOutputs: ["bucketName", "endpoint"] },
    azure: {
        title: "Azure Blob Storage",
        provisioned: false,
        credentials: [
            [{ secretKey: "accountKey", arg: "azureAccountKey", readerOutput: "readerAzureAccountKey" }],
            [{ secretKey: "sasKey", arg: "azureSasKey", readerOutput: "readerAzureSasKey" }],
        ],
        bucketOutputs: ["bucketName", "endpoint"],
    },
} as const satisfies Record<FluxBucketProvider, ProviderFacts>;

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as FluxBucketProvider[];

export function isProvider(name: string): name is FluxBucketProvider {
    return Object.hasOwn(PROVIDERS, name);
}

/** The URL schemes bucketops reads, and what each is called in messages. */
export const URL_SCHEMES = [...new Set(PROVIDER_NAMES.flatMap((name) => (PROVIDERS[name] as ProviderFacts).scheme ?? []))];
export const SCHEME_TITLES: Record<UrlScheme, string> = { s3: "S3", gs: "GCS" };

/** The providers whose buckets a URL scheme reaches. */
export function providersOf(scheme: UrlScheme): FluxBucketProvider[] {
    return PROVIDER_NAMES.filter((name) => (PROVIDERS[name] as ProviderFacts).scheme === scheme);
}

type ArgsOf<Set, Value> = Set extends readonly { readonly arg: infer Arg extends string }[] ? { [Key in Arg]: Value } : never;

/** One way to authenticate, as BucketSync takes it: the arguments of one of PROVIDERS' credential sets, e.g. `{ accessKey, secretKey }`. */
export type CredentialArgs<Value> = ArgsOf<(typeof PROVIDERS)[FluxBucketProvider]["credentials"][number], Value>;
