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
    if (entries === undefined) {
        if (config.isSet("promotions")) config.fail("promotions", "needs environments: a promotion copies one environment's release to another");
        return undefined;
    }
    if (entries.length === 0) {
        config.fail("environments", "is empty; list at least one environment, or unset it for a single one");
        return undefined;
    }
    const environments = entries.map((entry): Environment => {
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
    // `promotions`: entries `to=from`, the environment promoted to and the one whose releases it takes.
    const promotions = config.stringList("promotions") ?? [];
    for (const entry of promotions) {
        const [to, from] = entry.split("=", 2);
        const names = environments.map((environment) => environment.name);
        const target = environments.find((environment) => environment.name === to);
        if (from === undefined || !target || !names.includes(from) || from === to) {
            config.fail("promotions", `entry "${entry}" is not <environment>=<environment it promotes from> of two different environments; allowed names: ${names.join(", ")}`);
            continue;
        }
        target.promotesFrom = [...(target.promotesFrom ?? []), from];
    }
    return environments;
}
