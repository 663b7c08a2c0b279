import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BucketSync, FluxInstall } from "../components/flux/index.ts";
import type { FluxOutputs } from "../src/bucket/outputs.ts";
import type { FluxConfig } from "./config/flux.ts";
import { readInfraReference } from "./infraReference.ts";

/** What the flux stack exports (src/bucket/outputs.ts). */
export type FluxStackOutputs = FluxOutputs<pulumi.Output<string>>;

/** Flux keeps full keys in the Bucket's artifact, so a path inside an environment starts with its prefix. */
export function pathInBucket(path: string, prefix?: string): string {
    return prefix === undefined ? path : `./${prefix}${path.replace(/^(\.\/)+/, "")}`;
}

/**
 * The flux layer: Flux installed with the flux2 chart on the infra stack's cluster, then the Secret, Bucket and
 * Kustomization that sync the bucket, created only once the chart (and so its CRDs) is in place. `file` is the stack's
 * file, which problems with the infra stack it reads are reported against.
 */
export async function fluxStack(config: FluxConfig, file?: string): Promise<FluxStackOutputs> {
    const infra = await readInfraReference(config.infraStack, { environment: config.environment, ownCluster: config.kubeconfig !== undefined, file });
    const cluster = new k8s.Provider("cluster", { kubeconfig: config.kubeconfig ?? infra.kubeconfig! });

    const install = new FluxInstall(
        "flux",
        { namespace: config.namespace, chartVersion: config.chartVersion, fluxRelease: config.fluxRelease },
        { providers: [cluster] },
    );
    const prefix = infra.prefix ?? config.bucket.prefix;
    const sync = new BucketSync(
        config.sourceName,
        {
            namespace: install.namespaceName,
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
            kustomization: { ...config.kustomization, path: pathInBucket(config.kustomization.path, infra.prefix) },
        },
        { providers: [cluster], dependsOn: [install] },
    );

    return {
        infraStack: config.infraStack,
        environment: config.environment,
        namespace: install.namespaceName,
        chartVersion: config.chartVersion,
        bucket: sync.bucketObjectName,
        prefix: prefix ?? "",
        kustomization: sync.kustomizationObjectName,
    };
}
