import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BucketSync, FluxInstall } from "../components/flux";
import { FluxConfig } from "./config/flux";
import { readInfraReference } from "./infraReference";

export interface FluxOutputs {
    infraStack: string;
    namespace: pulumi.Output<string>;
    chartVersion: string;
    bucket: pulumi.Output<string>;
    kustomization: pulumi.Output<string>;
}

/**
 * The flux layer: Flux installed with the flux2 chart on the infra stack's cluster, then the Secret, Bucket and
 * Kustomization that sync the bucket, created only once the chart (and so its CRDs) is in place.
 */
export async function fluxStack(config: FluxConfig): Promise<FluxOutputs> {
    const infra = await readInfraReference(config.infraStack);
    const cluster = new k8s.Provider("cluster", { kubeconfig: infra.kubeconfig });

    const install = new FluxInstall(
        "flux",
        { namespace: config.namespace, chartVersion: config.chartVersion },
        { providers: [cluster] },
    );
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
            },
            credentials: infra.credentials,
            kustomization: config.kustomization,
        },
        { providers: [cluster], dependsOn: [install] },
    );

    return {
        infraStack: config.infraStack,
        namespace: install.namespaceName,
        chartVersion: config.chartVersion,
        bucket: sync.bucketObjectName,
        kustomization: sync.kustomizationObjectName,
    };
}
