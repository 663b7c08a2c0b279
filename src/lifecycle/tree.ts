import { readFile, stat } from "node:fs/promises";
import { SOURCEIGNORE } from "../bucket/keys.ts";
import { CliError } from "../cli/errors.ts";
import { ignorePatterns } from "../cli/revision.ts";
import { ignoreMatcher } from "../cli/sourceignore.ts";
import { readTree } from "../cli/tree.ts";
import { validateManifests } from "../cli/validate.ts";

/**
 * What would stop `up`'s push of `tree`, found before any stack is deployed: the same checks `bucketops push` makes
 * before it uploads (a directory with files, valid manifests whose Flux paths start with the prefix they are pushed
 * under), for each prefix the flux stacks read (`prefixes`: flux stack → prefix). Files the tree's own root
 * .sourceignore hides are left out, as Flux leaves them out (a bucket's .sourceignore is not known before the push).
 */
export async function treeProblems(tree: string, prefixes: Record<string, string>): Promise<string[]> {
    const info = await stat(tree).catch(() => undefined);
    if (!info) return [`--tree ${tree} does not exist`];
    if (!info.isDirectory()) return [`--tree ${tree} is not a directory`];
    const { files } = await readTree(tree);
    if (files.length === 0) return [`--tree ${tree} has no files: pushing it would delete every object under the prefix`];
    const ownIgnore = files.find((file) => file.relative === SOURCEIGNORE);
    const problems: string[] = [];
    const stacksOf = new Map<string, string[]>();
    for (const [stack, prefix] of Object.entries(prefixes)) stacksOf.set(prefix, [...(stacksOf.get(prefix) ?? []), stack]);
    for (const [prefix, stacks] of stacksOf) {
        const ignored = ignoreMatcher(ignorePatterns(prefix === "" && ownIgnore ? await readFile(ownIgnore.absolute) : undefined, undefined));
        try {
            await validateManifests(tree, prefix, { build: true, files, ignored });
        } catch (error) {
            if (!(error instanceof CliError)) throw error;
            const where = prefix === "" ? "the bucket's root" : `prefix ${prefix}`;
            problems.push(`--tree ${tree}, pushed to ${where} for ${stacks.join(", ")}: ${error.message.replace(/, nothing was uploaded/, "")}`);
        }
    }
    return problems;
}
