import type { FluxBucketProvider } from "./flux.ts";

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

/** One environment's entry in the infra stack's `environments` output: its prefix and its reader's and writer's keys. */
export interface EnvironmentOutputs extends Credentials<string> {
    prefix: string;
}

/**
 * The infra stack's outputs. `Value`: a plain value (`Input<string>` in the program); `Secret`: a credential or the
 * kubeconfig (a secret Output in the program); `Environments`: the per-environment map (one secret Output there).
 */
export interface InfraOutputs<Value = string, Secret = string, Environments = Record<string, EnvironmentOutputs>> extends Credentials<Secret> {
    provider: FluxBucketProvider;
    bucketName: Value;
    /** Flux's `spec.endpoint`: a bare host (or an https URL for azure). */
    endpoint: Value;
    region?: Value;
    insecure: boolean;
    kubeconfig: Secret;
    /** With environments: each one's prefix, in the clear. */
    environmentPrefixes?: Record<string, string>;
    /** With environments: each one's prefix and credentials (then there are no top-level credentials). */
    environments?: Environments;
}

/** The flux stack's outputs. */
export interface FluxOutputs<Value = string> {
    infraStack: string;
    environment?: string;
    /** Flux's namespace. */
    namespace: Value;
    chartVersion: string;
    /** The Flux Bucket object's name. */
    bucket: Value;
    /** The Bucket's spec.prefix ("" for the whole bucket): where this stack's cluster reads, and `npm run up` pushes. */
    prefix: string;
    kustomization: Value;
}

/** The names of the infra stack's outputs, for a StackReference. */
export type InfraOutputName = keyof InfraOutputs;
