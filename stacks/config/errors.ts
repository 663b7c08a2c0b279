/** Invalid stack configuration: raised before any resource is registered, naming every offending key. */
export class ConfigError extends Error {
    readonly problems: string[];

    constructor(problems: string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.problems = problems;
        this.name = "ConfigError";
    }
}
