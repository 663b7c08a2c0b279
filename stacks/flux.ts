import * as k8s from "../components/flux/kubernetes.ts";
import * as pulumi from "@pulumi/pulumi";
import { BucketSync, FluxInstall } from "../components/flux/index.ts";
import { SOURCE_CONTROLLER } from "../src/bucket/identity.ts";
import type { FluxOutputs } from "../src/bucket/outputs.ts";
import type { FluxConfig } from "./config/flux.ts";
import { ConfigError } from "./config/errors.ts";
import { readInfraReference } from "./infraReference.ts";

/** What the flux stack exports (src/bucket/outputs.ts). */
export type FluxStackOutputs = FluxOutputs<pulumi.Output<string>>;

/** Flux keeps full keys in the Bucket's artifact, so a path inside an environment starts with its prefix. */
export function pathInBucket(path: string, prefix?: string): string {
    return prefix === undefined ? path : `./${prefix}${path.replace(/^(\.\/)+/, "")}`;
}

/**
 * The flux layer: Flux installed with the flux2 chart on the infra stack's cluster (unless another flux stack installs
 * it: installFlux false), then the Secret (or, keyless, nothing or the environment's service account), Bucket and
 * Kustomization that sync the bucket, created only once the chart (and so its CRDs) is in place. `file` is the stack's
 * file, which problems with the infra stack it reads are reported against.
 */
export async function fluxStack(config: FluxConfig, file?: string): Promise<FluxStackOutputs> {
    const infra = await readInfraReference(config.infraStack, {
        environment: config.environment,
        ownCluster: config.kubeconfig !== undefined,
        file,
        namespace: config.namespace,
    });

    // Workload identity: source-controller's own service account names the reader's identity (the whole bucket, where the
    // cluster gives the controller its credentials), or the Bucket reads as a service account of its own (object-level:
    // an environment's, or the whole bucket's on a cluster that does not).
    const identity = infra.workloadIdentity;
    const objectLevel = identity !== undefined && identity.serviceAccount.name !== SOURCE_CONTROLLER;
    if (identity && !objectLevel && !config.install) {
        throw new ConfigError(
            [
                `flux-bucket:installFlux is false, but the infra stack ${config.infraStack} lets Flux read its whole bucket as source-controller's own ` +
                    "service account, which only the stack that installs Flux can annotate: set installFlux true, or split the bucket into environments",
            ],
            file,
        );
    }
    const cluster = new k8s.Provider("cluster", { kubeconfig: config.kubeconfig ?? infra.kubeconfig! });
    const install =
        config.install &&
        new FluxInstall(
            "flux",
            {
                namespace: config.namespace,
                ...config.install,
                workloadIdentity: identity && (objectLevel ? { objectLevel } : { serviceAccountAnnotations: identity.annotations }),
            },
            { providers: [cluster] },
        );
    const namespace = install ? install.namespaceName : pulumi.output(config.namespace);
    const prefix = infra.prefix ?? config.bucket.prefix;
    const kustomizationPath = pathInBucket(config.kustomization.path, infra.prefix);
    const sync = new BucketSync(
        config.sourceName,
        {
            namespace,
            bucket: {
                provider: infra.provider,
                bucketName: infra.bucketName,
                endpoint: infra.endpoint,
                region: infra.region,
                insecure: infra.provider === "generic" ? infra.insecure : undefined,
                ...config.bucket,
                prefix,
            },
            credentials: infra.credentials,
            serviceAccount: objectLevel ? { name: identity.serviceAccount.name, annotations: identity.annotations } : undefined,
            kustomization: { ...config.kustomization, path: kustomizationPath },
        },
        { providers: [cluster], dependsOn: install ? [install] : [] },
    );

    return {
        infraStack: config.infraStack,
        environment: config.environment,
        namespace,
        chartVersion: config.install?.chartVersion,
        bucket: sync.bucketObjectName,
        prefix: prefix ?? "",
        kustomization: sync.kustomizationObjectName,
        kustomizationPath,
        substitutePrefix: config.kustomization.substitutePrefix,
    };
}
