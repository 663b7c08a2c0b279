import * as k8s from "./kubernetes.ts";
import * as pulumi from "@pulumi/pulumi";
import type { IKustomization } from "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1/Kustomization";
import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";
import type { FluxBucketProvider } from "../../src/bucket/flux.ts";
import { SOURCE_CONTROLLER } from "../../src/bucket/identity.ts";
import { BUCKETOPS_IGNORE, normalizePrefix, prefixSubstitution } from "../../src/bucket/keys.ts";
import { type Credential, type CredentialArgs, PROVIDERS } from "../../src/bucket/providers.ts";

export type { FluxBucketProvider };

/** Credentials for the Bucket's Secret; which shapes fit a provider is PROVIDERS[provider].credentials. */
export type BucketSourceCredentials = CredentialArgs<pulumi.Input<string>>;

/**
 * The Bucket's spec, as Flux's CRD model types it (`IBucketSpec` of @kubernetes-models/flux-cd), with the values
 * that usually come from other resources as Pulumi inputs. `secretRef` is set by BucketSync.
 */
export type BucketSourceSpec = Pick<IBucketSpec, "interval" | "insecure" | "timeout" | "prefix" | "suspend"> & {
    /** Flux's `spec.provider`; decides the Secret's keys (PROVIDERS in src/bucket/providers.ts). */
    provider: FluxBucketProvider;
    bucketName: pulumi.Input<string>;
    /** Bare host for aws, gcp and generic (storage.googleapis.com for gcp); an https URL for azure. */
    endpoint: pulumi.Input<string>;
    /** The bucket's region (aws, and generic stores that need one). */
    region?: pulumi.Input<string>;
    /** `.sourceignore`-format patterns; bucketops' BUCKETOPS_IGNORE is always appended, so a lease never changes the revision. */
    ignore?: string;
};

/**
 * The root Kustomization's spec, as Flux's CRD model types it (`IKustomization["spec"]`); `sourceRef` is set by
 * BucketSync. `path` is relative to the bucket root as Flux unpacks it, e.g. `./clusters/dev` (an environment's
 * prefix included: `./prod/clusters/prod`), and may not contain `..`.
 */
export type KustomizationSpec = Pick<KustomizationModelSpec, "prune" | "interval" | "retryInterval" | "timeout" | "wait"> & {
    path: string;
    /**
     * Set `${BUCKETOPS_PREFIX}` (src/bucket/keys.ts PREFIX_VARIABLE) to the Bucket's prefix in what the path applies
     * (spec.postBuild.substitute), so one tree serves every environment and can be promoted between them. Flux then
     * substitutes every `${VAR}` there (unset ones become empty). Default: false.
     */
    substitutePrefix?: boolean;
};

type KustomizationModelSpec = NonNullable<IKustomization["spec"]>;

export interface BucketSyncArgs {
    /** Namespace of the Secret, the Bucket and the Kustomization: Flux's own (FluxInstall's `namespaceName`). */
    namespace: pulumi.Input<string>;
    /** Name of the Bucket, its Secret and the Kustomization; defaults to the resource name. */
    objectName?: string;
    /** The bucket Flux fetches. */
    bucket: BucketSourceSpec;
    /** The reader's credentials, in the shape of one of the provider's credential sets. Unset: no Secret (workload identity, or a bucket that needs none). */
    credentials?: BucketSourceCredentials;
    /**
     * Object-level workload identity: a service account in `namespace` with these annotations (e.g.
     * `eks.amazonaws.com/role-arn`) that the Bucket reads as (`spec.serviceAccountName`), with the RBAC that lets
     * source-controller request its tokens. Needs FluxInstall's `workloadIdentity.objectLevel`. Not with `credentials`.
     */
    serviceAccount?: { name: string; annotations: Record<string, pulumi.Input<string>> };
    /** What Flux applies from the bucket. */
    kustomization: KustomizationSpec;
}

/** The Secret data keys Flux's source-controller reads for the provider, from the credentials given as BucketSync args. */
export function bucketSecretData(provider: FluxBucketProvider, credentials: BucketSourceCredentials): Record<string, pulumi.Input<string>> {
    const given = credentials as Record<string, pulumi.Input<string>>;
    const sets: readonly (readonly Credential[])[] = PROVIDERS[provider].credentials;
    const set = sets.find((candidate) => sameKeys(candidate.map((credential) => credential.arg), Object.keys(given)));
    if (!set) {
        const secretKeyOf = (arg: string) =>
            Object.values(PROVIDERS)
                .flatMap((facts): readonly (readonly Credential[])[] => facts.credentials)
                .flat()
                .find((credential) => credential.arg === arg)?.secretKey ?? arg;
        const expected = sets.map((candidate) => candidate.map((credential) => credential.secretKey).join(" + ")).join(" or ");
        throw new pulumi.InputPropertyError({
            propertyPath: "credentials",
            reason: `Flux's ${provider} Bucket provider reads ${expected} from its Secret, not ${Object.keys(given).map(secretKeyOf).join(" + ")}`,
        });
    }
    return Object.fromEntries(set.map((credential) => [credential.secretKey, given[credential.arg]]));
}

const sameKeys = (a: string[], b: string[]) => a.length === b.length && a.every((key) => b.includes(key));

const defined = <T extends object>(spec: T): T =>
    Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)) as T;

/**
 * Flux syncing from a bucket: the credentials Secret, a `source.toolkit.fluxcd.io/v1` Bucket and the
 * `kustomize.toolkit.fluxcd.io/v1` Kustomization that applies a path of it. Give it `dependsOn` the
 * FluxInstall so the CRDs exist first.
 */
export class BucketSync extends pulumi.ComponentResource {
    readonly secret?: k8s.core.v1.Secret;
    /** Object-level workload identity: the service account the Bucket reads as, and source-controller's right to its tokens. */
    readonly serviceAccount?: k8s.core.v1.ServiceAccount;
    readonly tokenAccess?: k8s.rbac.v1.RoleBinding;
    readonly bucket: k8s.apiextensions.CustomResource;
    readonly kustomization: k8s.apiextensions.CustomResource;
    readonly bucketObjectName: pulumi.Output<string>;
    readonly kustomizationObjectName: pulumi.Output<string>;

    constructor(name: string, args: BucketSyncArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:flux:BucketSync", name, {}, opts);
        if (args.kustomization.path.split("/").includes("..")) {
            throw new pulumi.InputPropertyError({
                propertyPath: "kustomization.path",
                reason: `"${args.kustomization.path}" leaves the bucket; give a path from its root such as ./clusters/dev`,
            });
        }
        // Children do not inherit the component's dependsOn: each object must wait for the CRDs itself.
        const after = (...resources: pulumi.Resource[]): pulumi.CustomResourceOptions => ({
            parent: this,
            dependsOn: pulumi.output(opts?.dependsOn ?? []).apply((first) => [...(Array.isArray(first) ? first : [first]), ...resources]),
        });
        if (args.serviceAccount && args.credentials) {
            throw new pulumi.InputPropertyError({
                propertyPath: "serviceAccount",
                reason: "cannot be set together with credentials: a Bucket reads either with a Secret or as a service account (Flux's CRD refuses both)",
            });
        }
        if (args.serviceAccount && args.bucket.provider === "generic") {
            throw new pulumi.InputPropertyError({ propertyPath: "serviceAccount", reason: "is not supported for the generic provider; allowed: aws, gcp, azure" });
        }
        const objectName = args.objectName ?? name;
        const metadata = { name: objectName, namespace: args.namespace };

        if (args.serviceAccount) {
            const { name: accountName, annotations } = args.serviceAccount;
            this.serviceAccount = new k8s.core.v1.ServiceAccount(
                name,
                // Only source-controller uses it, through the TokenRequest API: no pod mounts its token.
                { metadata: { name: accountName, namespace: args.namespace, annotations }, automountServiceAccountToken: false },
                after(),
            );
            // The chart gives source-controller no right to request tokens (flux2-2.18.3 crd-controller ClusterRole);
            // Flux's object identity setup grants it cluster-wide, this only for the one service account.
            const role = new k8s.rbac.v1.Role(
                `${name}-token`,
                {
                    metadata: { name: `${accountName}-token`, namespace: args.namespace },
                    rules: [{ apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: [accountName], verbs: ["create"] }],
                },
                after(),
            );
            this.tokenAccess = new k8s.rbac.v1.RoleBinding(
                `${name}-token`,
                {
                    metadata: { name: `${accountName}-token`, namespace: args.namespace },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                    subjects: [{ kind: "ServiceAccount", name: SOURCE_CONTROLLER, namespace: args.namespace }],
                },
                after(role),
            );
        }

        if (args.credentials) {
            const data = bucketSecretData(args.bucket.provider, args.credentials);
            this.secret = new k8s.core.v1.Secret(
                name,
                {
                    metadata,
                    type: "Opaque",
                    stringData: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, pulumi.secret(value)])),
                },
                after(),
            );
        }

        const { provider, bucketName, endpoint, region, insecure, interval, timeout, prefix, ignore, suspend } = args.bucket;
        this.bucket = new k8s.apiextensions.CustomResource(
            name,
            {
                apiVersion: "source.toolkit.fluxcd.io/v1",
                kind: "Bucket",
                metadata,
                spec: defined({
                    provider,
                    bucketName,
                    endpoint,
                    region,
                    insecure,
                    interval,
                    timeout,
                    prefix,
                    ignore: ignore ? `${ignore.replace(/\n?$/, "\n")}${BUCKETOPS_IGNORE}` : BUCKETOPS_IGNORE,
                    suspend,
                    secretRef: this.secret ? { name: objectName } : undefined,
                    serviceAccountName: args.serviceAccount?.name,
                }),
            },
            after(...(this.secret ? [this.secret] : []), ...(this.serviceAccount ? [this.serviceAccount, this.tokenAccess!] : [])),
        );

        const { path, prune, interval: every, retryInterval, timeout: applyTimeout, wait, substitutePrefix } = args.kustomization;
        this.kustomization = new k8s.apiextensions.CustomResource(
            name,
            {
                apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                kind: "Kustomization",
                metadata,
                spec: defined({
                    interval: every,
                    retryInterval,
                    timeout: applyTimeout,
                    path,
                    prune,
                    wait,
                    sourceRef: { kind: "Bucket", name: objectName },
                    postBuild: substitutePrefix ? { substitute: prefixSubstitution(normalizePrefix(prefix ?? "")) } : undefined,
                }),
            },
            after(this.bucket),
        );

        this.bucketObjectName = this.bucket.metadata.name;
        this.kustomizationObjectName = this.kustomization.metadata.name;
        this.registerOutputs({ bucket: this.bucketObjectName, kustomization: this.kustomizationObjectName });
    }
}
