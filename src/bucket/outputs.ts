import type { FluxBucketProvider } from "./flux.ts";
import type { Auth } from "./identity.ts";

/**
 * The stacks' outputs: the one contract between the infra stack, the flux stack (which reads the infra stack through
 * a StackReference) and bucketops (which reads `pulumi stack output --json --show-secrets`). The stacks export
 * these types with Pulumi's value types; bucketops reads them with plain ones. Renaming a field here changes all
 * three, and tests/cli/stackOutputs.test.ts feeds bucketops the outputs of offline runs of the real stacks.
 */

/** One identity's keys, as each provider names them (a provider uses the ones of its `credentials`). */
export interface Credentials<Secret> {
    readerAccessKeyId?: Secret;
    readerSecretAccessKey?: Secret;
    readerServiceAccountKey?: Secret;
    readerAzureAccountKey?: Secret;
    readerAzureSasKey?: Secret;
    writerAccessKeyId?: Secret;
    writerSecretAccessKey?: Secret;
    writerServiceAccountKey?: Secret;
}

/**
 * Keyless identities, by name (never a key): Flux's reader with workload identity, and the CI identities that
 * GitHub Actions jobs assume with their OIDC token.
 */
export interface Identities<Value> {
    /** aws, auth workload-identity: the IAM role Flux's reader assumes. */
    readerRoleArn?: Value;
    /** gcp, auth workload-identity: the service account Flux's reader impersonates. */
    readerServiceAccount?: Value;
    /** gcp outside GKE: the Workload Identity Federation provider Flux exchanges the reader's Kubernetes token at (`projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`). */
    readerWorkloadIdentityProvider?: Value;
    /** auth workload-identity: the Kubernetes service account `<namespace>/<name>` the reader trusts, on the infra stack's cluster. */
    readerKubernetesServiceAccount?: Value;
    /** With GitHub Actions: the role (aws) or service account (gcp) a push job of the trusted branch or environment writes with. */
    ciWriterRoleArn?: Value;
    ciWriterServiceAccount?: Value;
    /** With GitHub Actions: the read-only one that pull request jobs run `bucketops diff` with. */
    ciReaderRoleArn?: Value;
    ciReaderServiceAccount?: Value;
}

/** One environment's entry in the infra stack's `environments` output: its prefix and its identities' keys or names. */
export interface EnvironmentOutputs extends Credentials<string>, Identities<string> {
    prefix: string;
}

/**
 * The infra stack's outputs. `Value`: a plain value (`Input<string>` in the program); `Secret`: a credential or the
 * kubeconfig (a secret Output in the program); `Environments`: the per-environment map (one secret Output there).
 */
export interface InfraOutputs<Value = string, Secret = string, Environments = Record<string, EnvironmentOutputs>>
    extends Credentials<Secret>,
        Identities<Value> {
    provider: FluxBucketProvider;
    /** How Flux's reader authenticates: `keys` (the reader credentials) or `workload-identity` (the reader identities, no key). */
    auth: Auth;
    /** gcp with GitHub Actions: the Workload Identity Federation provider (`projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`) CI authenticates through. */
    ciWorkloadIdentityProvider?: Value;
    bucketName: Value;
    /** Flux's `spec.endpoint`: a bare host (or an https URL for azure). */
    endpoint: Value;
    region?: Value;
    insecure: boolean;
    kubeconfig: Secret;
    /** aws/gcp: whether `pulumi destroy` deletes the bucket with what it holds, as the last `pulumi up` applied it. */
    forceDestroy?: boolean;
    /** With environments: each one's prefix, in the clear. */
    environmentPrefixes?: Record<string, string>;
    /** With environments: each one's prefix and credentials or identities (then there are none at the top level); a secret when it holds keys. */
    environments?: Environments;
}

/** The flux stack's outputs. */
export interface FluxOutputs<Value = string> {
    infraStack: string;
    environment?: string;
    /** Flux's namespace. */
    namespace: Value;
    /** The flux2 chart version this stack installs; unset when another flux stack installs Flux (installFlux false). */
    chartVersion?: string;
    /** The Flux Bucket object's name. */
    bucket: Value;
    /** The Bucket's spec.prefix ("" for the whole bucket): where this stack's cluster reads, and `npm run up` pushes. */
    prefix: string;
    kustomization: Value;
    /** The root Kustomization's spec.path as Flux reads it (prefix included): where validation of a push starts. */
    kustomizationPath?: string;
    /** The root Kustomization sets ${BUCKETOPS_PREFIX} to `prefix` (flux-bucket:substitutePrefix; src/bucket/keys.ts). */
    substitutePrefix?: boolean;
}

/** The names of the infra stack's outputs, for a StackReference. */
export type InfraOutputName = keyof InfraOutputs;
