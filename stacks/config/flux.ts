import * as pulumi from "@pulumi/pulumi";
import type { FluxRelease } from "../../components/flux/install.ts";
import * as check from "./checks.ts";
import { ConfigReader } from "./reader.ts";

export interface FluxConfig {
    /** Fully qualified name of the infra stack. */
    infraStack: string;
    namespace: string;
    /** Unset: this stack does not install Flux (another flux stack on the cluster does). */
    install?: { chartVersion: string; fluxRelease: FluxRelease };
    sourceName: string;
    /** The infra stack's environment to sync; unset: the whole bucket. */
    environment?: string;
    /** The cluster to install on; unset: the infra stack's. */
    kubeconfig?: pulumi.Output<string>;
    bucket: { interval: string; timeout: string; prefix?: string; ignore?: string; suspend: boolean };
    kustomization: { path: string; prune: boolean; interval: string; retryInterval: string; timeout: string; wait: boolean; substitutePrefix: boolean };
}

export interface StackIdentity {
    organization: string;
    project: string;
    stack: string;
}

const FLUX_SUFFIX = "-flux";

/** The infra stack that a flux stack named `<infra>-flux` reads when flux-bucket:infraStack is not set. */
export function defaultInfraStack(fluxStack: string): string | undefined {
    return fluxStack.endsWith(FLUX_SUFFIX) && fluxStack.length > FLUX_SUFFIX.length ? fluxStack.slice(0, -FLUX_SUFFIX.length) : undefined;
}

/** Reads and validates the flux layer's config; throws one ConfigError naming every bad key. */
export function readFluxConfig(config: ConfigReader, self: StackIdentity): FluxConfig {
    let infraStack = config.checked("infraStack", check.stackName);
    if (infraStack === undefined) {
        const infra = defaultInfraStack(self.stack);
        if (infra !== undefined) {
            infraStack = `${self.organization}/${self.project}/${infra}`;
        } else {
            config.fail(
                "infraStack",
                `is required because this stack's name "${self.stack}" does not end in "${FLUX_SUFFIX}"; set it to <organization>/<project>/<infra stack>`,
            );
        }
    }
    const environment = config.checked("environment", check.kubernetesName);
    if (environment !== undefined && config.isSet("bucketPrefix")) {
        config.fail("bucketPrefix", `cannot be set together with flux-bucket:environment; the environment's prefix is used`);
    }
    const install = config.boolean("installFlux");
    if (!install) {
        for (const key of ["fluxChartVersion", "fluxVersion"] as const) {
            if (config.isSet(key)) config.fail(key, "has no effect with flux-bucket:installFlux false: the stack that installs Flux on the cluster sets it");
        }
    }
    config.overriddenBy("kubernetes:kubeconfig", "kubeconfig", config.string("kubeconfig"), "Flux is installed through a provider of its own, on the cluster of");
    const flux: FluxConfig = {
        infraStack: infraStack ?? "",
        namespace: config.checked("fluxNamespace", check.kubernetesName),
        install: install
            ? {
                  chartVersion: config.checked("fluxChartVersion", (v) => (/^\d+\.\d+\.\d+$/.test(v) ? undefined : "allowed: a chart version such as 2.18.3")),
                  fluxRelease: config.string("fluxVersion") as FluxRelease,
              }
            : undefined,
        sourceName: config.checked("sourceName", check.kubernetesName),
        environment,
        kubeconfig: config.isSet("kubeconfig") ? config.secret("kubeconfig") : undefined,
        bucket: {
            interval: config.checked("bucketInterval", check.fluxDuration),
            timeout: config.checked("bucketTimeout", check.fluxBucketTimeout),
            prefix: config.checked("bucketPrefix", check.bucketPrefix),
            ignore: config.string("bucketIgnore"),
            suspend: config.boolean("bucketSuspend"),
        },
        kustomization: {
            path:
                environment !== undefined && !config.isSet("kustomizationPath")
                    ? `./clusters/${environment}`
                    : config.checked("kustomizationPath", check.bucketPath),
            prune: config.boolean("kustomizationPrune"),
            interval: config.checked("kustomizationInterval", check.fluxDuration),
            retryInterval: config.checked("kustomizationRetryInterval", check.fluxDuration),
            timeout: config.checked("kustomizationTimeout", check.fluxDuration),
            wait: config.boolean("kustomizationWait"),
            substitutePrefix: config.boolean("substitutePrefix"),
        },
    };
    config.done();
    return flux;
}
