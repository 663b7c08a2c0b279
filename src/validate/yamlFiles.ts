import { readFile } from "node:fs/promises";
import { walkFiles } from "../fs/walk.ts";
import { parseAllDocuments } from "yaml";
import type { Problem } from "./problems.ts";

export interface ParsedYamlFile {
    file: string;
    /** The non-empty documents, in order. */
    documents: unknown[];
    /** At most one per document: the first YAML error in it. */
    problems: Problem[];
    /**
     * No anchor, alias, tag or merge key (judged on the text, so a `&` inside a string may say no): data that any
     * YAML reader reads the same, which lets a kustomization of such files be composed without kustomize.
     */
    plain: boolean;
}

/** Every *.yaml / *.yml below dir, sorted; hidden folders (.git, .github) are skipped. */
export async function listYamlFiles(dir: string): Promise<string[]> {
    const files = await walkFiles(dir, { skipFolder: (name) => name.startsWith(".") });
    return files.filter((file) => /\.ya?ml$/i.test(file));
}

export async function parseYamlFile(file: string): Promise<ParsedYamlFile> {
    return parseYamlText(file, await readFile(file, "utf8"));
}

/** Parses a multi-document YAML stream; `file` only names it in problems. */
export function parseYamlText(file: string, text: string): ParsedYamlFile {
    const documents: unknown[] = [];
    const problems: Problem[] = [];
    // kustomize and Flux read YAML with go-yaml v3, which honours `<<` merge keys.
    for (const document of parseAllDocuments(text, { merge: true })) {
        const [first] = document.errors;
        if (first) {
            // yaml's messages end in ":" followed by a snippet of the source; the first line says it all.
            const message = first.message.split("\n")[0].replace(/:$/, "");
            problems.push({ file, object: "", field: "", message: `YAML syntax error: ${message}` });
            continue;
        }
        const value: unknown = document.toJS();
        if (value !== null && value !== undefined) documents.push(value);
    }
    return { file, documents, problems, plain: !YAML_FEATURES.test(text) };
}

const YAML_FEATURES = /(^|[\s[{,:-])[&*!][^\s]|<<\s*:/m;

/** Parses a kustomize build's output stream; a parse failure here is a kustomize bug, so it throws. */
export function parseYamlStream(text: string): unknown[] {
    const parsed = parseYamlText("kustomize output", text);
    if (parsed.problems.length > 0) throw new Error(parsed.problems[0].message);
    return parsed.documents;
}
