import * as k8s from "./kubernetes.ts";
import * as pulumi from "@pulumi/pulumi";
import { OBJECT_LEVEL_WORKLOAD_IDENTITY } from "../../src/bucket/identity.ts";

/** The fluxcd-community chart that installs Flux's controllers and CRDs. */
export const FLUX2_CHART = { chart: "flux2", repo: "https://fluxcd-community.github.io/helm-charts" } as const;

/**
 * The chart ships its CRDs as templates, so uninstalling the release would delete them and with them every
 * Flux object in the cluster. Helm leaves resources with this annotation in place.
 */
export const CRD_KEEP_ANNOTATION = { "helm.sh/resource-policy": "keep" } as const;

/** The flux2 chart's values key of each Flux image (`<key>.tag`). */
export type FluxImage =
    | "cli"
    | "sourceController"
    | "kustomizeController"
    | "helmController"
    | "notificationController"
    | "imageReflectionController"
    | "imageAutomationController"
    | "sourceWatcher";

/**
 * The image tags of each Flux release this project can run, as fluxcd/flux2's `manifests/bases/<controller>`
 * pin them at the release tag. Chart 2.18.3 ships 2.8.5 (its own values.yaml); 2.8.8 is a patch release of the
 * same APIs (the chart's CRDs stay valid) whose source-controller v1.8.5 resolves bucket object paths with
 * SecureJoin: the hardening that matters when whoever can write the bucket is less trusted than the cluster.
 */
export const FLUX_RELEASES = {
    "2.8.5": {
        cli: "v2.8.5",
        sourceController: "v1.8.2",
        kustomizeController: "v1.8.3",
        helmController: "v1.5.3",
        notificationController: "v1.8.3",
        imageReflectionController: "v1.1.1",
        imageAutomationController: "v1.1.1",
        sourceWatcher: "v2.1.1",
    },
    "2.8.8": {
        cli: "v2.8.8",
        sourceController: "v1.8.5",
        kustomizeController: "v1.8.5",
        helmController: "v1.5.5",
        notificationController: "v1.8.4",
        imageReflectionController: "v1.1.2",
        imageAutomationController: "v1.1.4",
        sourceWatcher: "v2.1.1",
    },
} as const satisfies Record<string, Record<FluxImage, string>>;

export type FluxRelease = keyof typeof FLUX_RELEASES;
export const DEFAULT_FLUX_RELEASE: FluxRelease = "2.8.8";

export interface FluxInstallArgs {
    /** Namespace Flux runs in; created by this component. */
    namespace: pulumi.Input<string>;
    /** Version of the flux2 chart, e.g. 2.18.3 (Flux 2.8). */
    chartVersion: pulumi.Input<string>;
    /** The Flux release whose images run, set through the chart's `<component>.tag` values. Default: 2.8.8. */
    fluxRelease?: FluxRelease;
    /** Extra chart values; `crds.annotations` always keeps the resource-policy annotation, image tags are the release's. */
    values?: Record<string, unknown>;
    /**
     * Workload identity for source-controller: annotations on its own service account (controller-level: every Bucket
     * without a Secret reads as the identity they name, e.g. `eks.amazonaws.com/role-arn`), and `objectLevel` to let a
     * Bucket read as its `spec.serviceAccountName` (the ObjectLevelWorkloadIdentity feature gate).
     */
    workloadIdentity?: { serviceAccountAnnotations?: Record<string, pulumi.Input<string>>; objectLevel?: boolean };
}

/** The chart values that give source-controller its workload identity (values.yaml of flux2-2.18.3: `sourceController.serviceAccount.annotations`, `sourceController.container.additionalArgs`). */
export function workloadIdentityValues(identity: NonNullable<FluxInstallArgs["workloadIdentity"]>, values: Record<string, unknown> = {}): Record<string, unknown> {
    const sourceController = (values.sourceController ?? {}) as { serviceAccount?: { annotations?: object }; container?: { additionalArgs?: string[] } };
    return {
        ...values,
        sourceController: {
            ...sourceController,
            serviceAccount: {
                ...sourceController.serviceAccount,
                annotations: { ...sourceController.serviceAccount?.annotations, ...identity.serviceAccountAnnotations },
            },
            container: {
                ...sourceController.container,
                additionalArgs: [
                    ...(sourceController.container?.additionalArgs ?? []),
                    ...(identity.objectLevel ? [`--feature-gates=${OBJECT_LEVEL_WORKLOAD_IDENTITY}=true`] : []),
                ],
            },
        },
    };
}

/** Flux's controllers and CRDs, installed with the flux2 Helm chart into their own namespace. */
export class FluxInstall extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    readonly release: k8s.HelmRelease;
    readonly namespaceName: pulumi.Output<string>;

    constructor(name: string, args: FluxInstallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:flux:FluxInstall", name, {}, opts);
        if (args.fluxRelease !== undefined && !Object.hasOwn(FLUX_RELEASES, args.fluxRelease)) {
            throw new pulumi.InputPropertyError({ propertyPath: "fluxRelease", reason: `"${args.fluxRelease}"; allowed: ${Object.keys(FLUX_RELEASES).join(", ")}` });
        }

        this.namespace = new k8s.core.v1.Namespace(name, { metadata: { name: args.namespace } }, { parent: this });
        const values = args.workloadIdentity ? workloadIdentityValues(args.workloadIdentity, args.values) : (args.values ?? {});
        const crds = (values.crds ?? {}) as { annotations?: Record<string, string> };
        const images = Object.fromEntries(
            Object.entries(FLUX_RELEASES[args.fluxRelease ?? DEFAULT_FLUX_RELEASE]).map(([image, tag]) => [image, { ...(values[image] as object), tag }]),
        );
        this.release = new k8s.HelmRelease(
            name,
            {
                name: "flux2",
                chart: FLUX2_CHART.chart,
                version: args.chartVersion,
                repositoryOpts: { repo: FLUX2_CHART.repo },
                namespace: this.namespace.metadata.name,
                values: { ...values, ...images, installCRDs: true, crds: { ...crds, annotations: { ...crds.annotations, ...CRD_KEEP_ANNOTATION } } },
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
