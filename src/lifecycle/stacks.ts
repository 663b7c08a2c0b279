import { PROJECT } from "../../stacks/config/declarations.ts";
import type { InfraConfig } from "../../stacks/config/infra.ts";
import { readStackConfig, type StackConfig } from "../../stacks/index.ts";
import { readStackFile, stackFilePath, stackNames } from "../render/stackFile.ts";
import { LifecycleError } from "./errors.ts";

/** An infra stack, its config, and the flux stacks that read it, as this project's stack files declare them. */
export interface StackSet {
    infra: string;
    infraConfig: InfraConfig;
    flux: string[];
    /** The flux stacks that install on a cluster of their own (flux-bucket:kubeconfig), not the infra stack's. */
    ownCluster: string[];
    /** Where each flux stack's Bucket reads (its environment's prefix, or flux-bucket:bucketPrefix; "" for the whole bucket): where `up` pushes. */
    prefixes: Record<string, string>;
}

/**
 * The stacks `up`, `down` and `preview` run for an infra stack: it, and every stack file of the flux layer whose
 * infraStack (flux-bucket:infraStack, else `<infra>-flux`'s default, as the flux program itself resolves it) is this
 * project's `infra`. Each file is read and validated as the program reads it, so a bad one stops before anything runs.
 */
export function stackSet(root: string, infra: string): StackSet {
    if (!stackFilePath(root, infra)) {
        throw new LifecycleError(`no stack "${infra}": Pulumi.${infra}.yaml does not exist; stacks here: ${stackNames(root).join(", ") || "none"}`);
    }
    const own = configOf(root, infra);
    if (own.layer !== "infra") {
        throw new LifecycleError(`"${infra}" is a flux stack: pass the infra stack it reads (${own.config.infraStack}); its flux stacks follow it`);
    }
    const flux = stackNames(root).flatMap((stack) => {
        const config = stack === infra ? undefined : configOf(root, stack);
        if (config?.layer !== "flux") return [];
        const [, project, name] = config.config.infraStack.split("/");
        if (project !== PROJECT || name !== infra) return [];
        const { environment, kubeconfig, bucket } = config.config;
        const environments = "environments" in own.config.storage ? own.config.storage.environments : undefined;
        const prefix = environments?.find(({ name: candidate }) => candidate === environment)?.prefix ?? bucket.prefix ?? "";
        return [{ stack, ownCluster: kubeconfig !== undefined, prefix }];
    });
    return {
        infra,
        infraConfig: own.config,
        flux: flux.map(({ stack }) => stack),
        ownCluster: flux.filter(({ ownCluster }) => ownCluster).map(({ stack }) => stack),
        prefixes: Object.fromEntries(flux.map(({ stack, prefix }) => [stack, prefix])),
    };
}

function configOf(root: string, stack: string): StackConfig {
    // The organization only qualifies the infraStack default, which is compared without it.
    return readStackConfig(readStackFile(root, stack).config, { organization: "organization", project: PROJECT, stack });
}
