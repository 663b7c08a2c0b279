import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The fluxcd-community chart that installs Flux's controllers and CRDs. */
export const FLUX2_CHART = { chart: "flux2", repo: "https://fluxcd-community.github.io/helm-charts" } as const;

/**
 * The chart ships its CRDs as templates, so uninstalling the release would delete them and with them every
 * Flux object in the cluster. Helm leaves resources with this annotation in place.
 */
export const CRD_KEEP_ANNOTATION = { "helm.sh/resource-policy": "keep" } as const;

export interface FluxInstallArgs {
    /** Namespace Flux runs in; created by this component. */
    namespace: pulumi.Input<string>;
    /** Version of the flux2 chart, e.g. 2.18.3 (Flux 2.8). */
    chartVersion: pulumi.Input<string>;
    /** Extra chart values; `crds.annotations` always keeps the resource-policy annotation. */
    values?: Record<string, unknown>;
}

/** Flux's controllers and CRDs, installed with the flux2 Helm chart into their own namespace. */
export class FluxInstall extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    readonly release: k8s.helm.v3.Release;
    readonly namespaceName: pulumi.Output<string>;

    constructor(name: string, args: FluxInstallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:flux:FluxInstall", name, {}, opts);

        this.namespace = new k8s.core.v1.Namespace(name, { metadata: { name: args.namespace } }, { parent: this });
        const values = args.values ?? {};
        const crds = (values.crds ?? {}) as { annotations?: Record<string, string> };
        this.release = new k8s.helm.v3.Release(
            name,
            {
                name: "flux2",
                chart: FLUX2_CHART.chart,
                version: args.chartVersion,
                repositoryOpts: { repo: FLUX2_CHART.repo },
                namespace: this.namespace.metadata.name,
                values: { ...values, installCRDs: true, crds: { ...crds, annotations: { ...crds.annotations, ...CRD_KEEP_ANNOTATION } } },
                // The chart's pre-install job checks the cluster version; wait for it and for the controllers.
                waitForJobs: true,
                cleanupOnFail: true,
                timeout: 600,
            },
            { parent: this },
        );

        this.namespaceName = this.namespace.metadata.name;
        this.registerOutputs({ namespace: this.namespaceName, release: this.release.status });
    }
}
