import { UserError } from "../../src/errors.ts";

/**
 * Invalid stack configuration: raised before any resource is registered, naming every offending key, each with
 * the stack file it is set in (or should be).
 */
export class ConfigError extends UserError {
    readonly problems: string[];

    /** `file`, e.g. `Pulumi.dev.yaml`, prefixes each problem; problems of several files can be joined with `combine`. */
    constructor(problems: string[], file?: string) {
        const located = file ? problems.map((problem) => `${file}: ${problem}`) : problems;
        super(`Invalid stack configuration:\n${located.map((p) => `  - ${p}`).join("\n")}`);
        this.problems = located;
    }

    /** One error listing every problem of every stack file. */
    static combine(errors: ConfigError[]): ConfigError {
        return new ConfigError(errors.flatMap((error) => error.problems));
    }
}

/** The file the Pulumi CLI reads a stack's config from. */
export const stackFileName = (stack: string) => `Pulumi.${stack}.yaml`;
