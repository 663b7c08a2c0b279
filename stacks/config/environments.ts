import type { Environment } from "../../components/environments.ts";
import { normalizePrefix } from "../../src/bucket/keys.ts";
import * as check from "./checks.ts";
import { ConfigReader } from "./reader.ts";

/**
 * Reads `environments`: entries `name` (prefix `name/`) or `name=prefix`. Names must be unique DNS labels and no
 * prefix may contain another, or one environment's credentials would reach into the other's keys.
 */
export function readEnvironments(config: ConfigReader): Environment[] | undefined {
    const entries = config.stringList("environments");
    if (entries === undefined) return undefined;
    if (entries.length === 0) {
        config.fail("environments", "is empty; list at least one environment, or unset it for a single one");
        return undefined;
    }
    const environments = entries.map((entry) => {
        const [name, prefix = name] = entry.split("=", 2);
        const nameProblem = check.kubernetesName(name);
        if (nameProblem) config.fail("environments", `entry "${entry}" has the name "${name}"; ${nameProblem}`);
        const prefixProblem = check.keyPrefix(prefix);
        if (prefixProblem) config.fail("environments", `entry "${entry}" has the prefix "${prefix}"; ${prefixProblem}`);
        return { name, prefix: normalizePrefix(prefix) };
    });
    environments.forEach((a, i) =>
        environments.slice(i + 1).forEach((b) => {
            if (a.name === b.name) config.fail("environments", `names "${a.name}" twice; each environment needs its own name`);
            else if (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix)) {
                config.fail("environments", `gives ${a.name} the prefix ${a.prefix} and ${b.name} the prefix ${b.prefix}; one contains the other, so allowed: prefixes that do not nest`);
            }
        }),
    );
    return environments;
}
