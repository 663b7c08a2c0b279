import * as pulumi from "@pulumi/pulumi";
import { type FluxConfig, readFluxConfig, type StackIdentity } from "./config/flux.ts";
import { type InfraConfig, readInfraConfig } from "./config/infra.ts";
import { ConfigReader } from "./config/reader.ts";
import { stackFileName } from "./config/errors.ts";
import { fluxStack } from "./flux.ts";
import { infraStack } from "./infra.ts";

export type StackConfig = { layer: "infra"; config: InfraConfig } | { layer: "flux"; config: FluxConfig };

/**
 * Reads and validates a stack's whole config (`all`: every namespace, as the CLI hands it over); `flux-bucket:layer`
 * picks the layer. Throws one ConfigError naming every problem, each with the stack's file.
 */
export function readStackConfig(all: Readonly<Record<string, string>>, self: StackIdentity): StackConfig {
    const config = ConfigReader.fromAllConfig(all, stackFileName(self.stack));
    const layer = config.requireString("layer", "(infra or flux)");
    if (layer === "flux") return { layer, config: readFluxConfig(config, self) };
    // An unknown key, a bad layer and bad values are reported together, by readInfraConfig's done().
    return { layer: "infra", config: readInfraConfig(config) };
}

/** The program of both stacks. Config is read and validated here, once, before any resource is registered. */
export default async () => {
    const self = { organization: pulumi.getOrganization(), project: pulumi.getProject(), stack: pulumi.getStack() };
    const stack = readStackConfig(pulumi.runtime.allConfig(), self);
    return stack.layer === "flux" ? fluxStack(stack.config, stackFileName(self.stack)) : infraStack(stack.config);
};
