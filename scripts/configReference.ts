// Writes the config keys declared in stacks/config/declarations.ts into Pulumi.yaml (its `config:` block, for the
// Pulumi CLI) and into README.md (the config reference table). `--check` only says whether both are up to date;
// tests/scripts/configReference.test.ts runs that check.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { type Declaration, declarations } from "../stacks/config/declarations.ts";

const root = path.resolve(import.meta.dirname, "..");
const BEGIN = "<!-- config reference: generated from stacks/config/declarations.ts by `npm run config-reference` -->";
const END = "<!-- end of config reference -->";

const entries = () => Object.entries(declarations) as [string, Declaration][];

/** Pulumi.yaml with its `config:` block made from the declarations; the rest of the file (and its comments) kept. */
export function projectFile(current: string): string {
    const document = parseDocument(current);
    const config = Object.fromEntries(
        entries().map(([key, { type, items, description, default: value, secret }]) => [
            key,
            { type, ...(items ? { items } : {}), description, ...(value !== undefined ? { default: value } : {}), ...(secret ? { secret } : {}) },
        ]),
    );
    document.set("config", document.createNode(config));
    return document.toString({ lineWidth: 0 });
}

/** README.md with the table between the markers made from the declarations. */
export function readme(current: string): string {
    const begin = current.indexOf(BEGIN);
    const end = current.indexOf(END);
    if (begin < 0 || end < begin) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`);
    const rows = entries().map(([key, { layer, type, description, default: value, secret }]) => {
        const shown = value !== undefined ? `\`${value}\`` : secret ? "(secret)" : "";
        return `| \`${key}\` | ${layer} | ${type} | ${shown} | ${description} |`;
    });
    const table = ["| key | layer | type | default | description |", "|---|---|---|---|---|", ...rows].join("\n");
    return `${current.slice(0, begin)}${BEGIN}\n${table}\n${current.slice(end)}`;
}

export const GENERATED = [
    { file: "Pulumi.yaml", make: projectFile },
    { file: "README.md", make: readme },
];

if (import.meta.main) {
    const check = process.argv.includes("--check");
    const stale = GENERATED.filter(({ file, make }) => {
        const current = readFileSync(path.join(root, file), "utf8");
        const wanted = make(current);
        if (wanted !== current && !check) writeFileSync(path.join(root, file), wanted);
        return wanted !== current;
    }).map(({ file }) => file);
    if (check && stale.length > 0) {
        console.error(`${stale.join(" and ")} ${stale.length > 1 ? "are" : "is"} not up to date with stacks/config/declarations.ts: run npm run config-reference`);
        process.exit(1);
    }
    console.log(stale.length > 0 ? `wrote ${stale.join(", ")}` : "Pulumi.yaml and README.md are up to date");
}
