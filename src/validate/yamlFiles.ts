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
     * No tag, merge key, folded block scalar or YAML 1.1 number (`0755`; judged on the text, so a `!` inside a string may say no): data that any
     * YAML reader reads the same, which lets a kustomization of such files be composed without kustomize.
     */
    plain: boolean;
}

/** What parsing a file's content gave, kept by a ParseCache under the content's hash: only files without a problem. */
export interface ParsedContent {
    documents: unknown[];
    plain: boolean;
    /** Every document passed the schema check on its own (with the validator and schemas the cache belongs to). */
    clean?: boolean;
}

/** Parsed contents by content hash (e.g. bucketops' validation cache, across runs). */
export interface ParseCache {
    get(key: string): ParsedContent | undefined;
    set(key: string, content: ParsedContent): void;
}

/**
 * Whether a parsed value survives JSON unchanged, so that a cache may keep it as JSON: YAML also reads `.inf` and
 * `.nan` (which JSON turns into null) and, with tags, other types.
 */
export function jsonSafe(value: unknown): boolean {
    if (value === null || typeof value === "string" || typeof value === "boolean") return true;
    if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
    if (Array.isArray(value)) return value.every(jsonSafe);
    if (typeof value !== "object") return false;
    const prototype = Object.getPrototypeOf(value);
    return (prototype === Object.prototype || prototype === null) && Object.values(value).every(jsonSafe);
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

// A tag (`!!str`, `!Ref`), a merge key, or a folded block scalar (`>`): go-yaml v3 writes one with more-indented lines
// back with an extra line break, so kustomize's output of it differs from the file (onedr0p/home-ops,
// scripts/compareBuilds.ts). Anchors and aliases are not among them: kustomize's output holds the values they stand
// for, as this parser reads them (compared on the corpus' 200-odd files with `&app`-style anchors). Nor is a plain
// number that YAML 1.1 and 1.2 read differently: go-yaml reads `0755` as octal (493), `0b101` as binary and `1_000`
// as 1000, this parser (YAML 1.2) reads 755 and two strings; kustomize writes go-yaml's value (podinfo, toboshii).
const YAML_FEATURES = /(^|[\s[{,:-])![^\s]|<<\s*:|(^|\s)>[-+1-9]{0,2}[ \t]*(#.*)?$|(^|[\s[{,])[-+]?(0[0-9][0-9_]*|0b[01_]+|[0-9]+_[0-9_]*(\.[0-9_]*)?)[ \t]*($|[,\]}#])/m;

/** Parses a kustomize build's output stream; a parse failure here is a kustomize bug, so it throws. */
export function parseYamlStream(text: string): unknown[] {
    const parsed = parseYamlText("kustomize output", text);
    if (parsed.problems.length > 0) throw new Error(parsed.problems[0].message);
    return parsed.documents;
}
