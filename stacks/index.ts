import * as pulumi from "@pulumi/pulumi";
import { readFluxConfig } from "./config/flux.ts";
import { readInfraConfig } from "./config/infra.ts";
import { ConfigReader } from "./config/reader.ts";
import { fluxStack } from "./flux.ts";
import { infraStack } from "./infra.ts";

/**
 * The program of both stacks: `flux-bucket:layer` picks the infra or the flux layer. Config is read and
 * validated here, once, before any resource is registered.
 */
export default async () => {
    const config = ConfigReader.fromAllConfig(pulumi.runtime.allConfig());
    const layer = config.requireString("layer", "(infra or flux)");
    if (layer === "flux") {
        const self = { organization: pulumi.getOrganization(), project: pulumi.getProject(), stack: pulumi.getStack() };
        return fluxStack(readFluxConfig(config, self));
    }
    // An unknown key, a bad layer and bad values are reported together, by readInfraConfig's done().
    return infraStack(readInfraConfig(config));
};
