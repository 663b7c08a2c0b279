import { readFile } from "node:fs/promises";
import { walkFiles } from "../fs/walk.ts";
import { isAlias, isMap, isScalar, parseAllDocuments, parseDocument, visit, type Document } from "yaml";
import type { Problem } from "./problems.ts";

export interface ParsedYamlFile {
    file: string;
    /** The non-empty documents, in order. */
    documents: unknown[];
    /** At most one per document: the first YAML error in it. */
    problems: Problem[];
    /**
     * Data that go-yaml v3 (kustomize's reader) reads as this parser does (see `sameInGoYaml`), which lets a
     * kustomization of such files be composed without kustomize.
     */
    plain: boolean;
}

/** What parsing a file's content gave, kept by a ParseCache under the content's hash: only files without a problem. */
export interface ParsedContent {
    documents: unknown[];
    plain: boolean;
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
    // Most files have nothing that could read differently: the node-by-node look only where the text may.
    // A carriage return, a directive, a byte order mark, or U+0085, U+2028, U+2029 (line breaks to go-yaml, which
    // reads YAML 1.1's; characters to YAML 1.2): not looked into, kustomize builds such a file.
    const suspect = MAYBE_DIFFERENT.test(text);
    let plain = !suspect || !/[\r\u0085\u2028\u2029]|^%|^\uFEFF/m.test(text);
    // kustomize and Flux read YAML with go-yaml v3, which honours `<<` merge keys.
    for (const document of parseAllDocuments(text, { merge: true })) {
        const [first] = document.errors;
        if (first) {
            // yaml's messages end in ":" followed by a snippet of the source; the first line says it all.
            const message = first.message.split("\n")[0].replace(/:$/, "");
            problems.push({ file, object: "", field: "", message: `YAML syntax error: ${message}` });
            continue;
        }
        if (suspect && plain && !sameInGoYaml(document, text)) plain = false;
        const value: unknown = document.toJS();
        if (value !== null && value !== undefined) documents.push(value);
    }
    return { file, documents, problems, plain };
}

// What the text must hold for a document to read differently in go-yaml v3: a tag or directive, a merge key, a
// block scalar header, a number with a leading zero or an underscore. Without any, the parse is the same.
const MAYBE_DIFFERENT = /[!|>\r\u0085\u2028\u2029\uFEFF]|^%|<<|(^|[^0-9A-Za-z_.])[-+]?[0-9.][-+0-9A-Za-z.]*_|(^|[^0-9A-Za-z_.])[-+]?0[0-9bBoOxX]/m;

/**
 * Whether go-yaml v3 (gopkg.in/yaml.v3 v3.0.1, which kustomize v5.5.0's kyaml reads with, via sigs.k8s.io/yaml's
 * goyaml.v3 fork of it) reads every node of this document as this parser (YAML 1.2 core) does, judged node by node,
 * never on the text of strings or comments. Not the same, or not certain:
 * - an explicit tag (`!!str 12`, `!Ref x`) and any `%` directive;
 * - a merge key `<<` of a list of maps (kustomize resolves overlapping keys otherwise: the later map's value can
 *   win); a merge of one map, an alias of one (`<<: *labels`) or one in place, reads the same, the map's own keys
 *   winning before and after the `<<` (tests/validate/composedBuild.test.ts);
 * - a plain scalar that go-yaml may read as another number (resolve.go, resolve(): it drops every `_` and calls
 *   strconv.ParseInt(plain, 0, 64), so `0755` is octal 493, `0b101` is 5, `1_000` is 1000, `-0x1F` is -31, where
 *   YAML 1.2 reads 755 and strings): one starting with a digit, a dot or a sign and holding `_`, a leading zero
 *   before a digit or `b`, a sign before `0x`/`0o`;
 * - a block scalar at the very end of the text without a final line break: go-yaml clips no line break there
 *   (`key: |\n  end` is "end"), this parser gives "end\n";
 * - a folded block scalar (`>`) with a more-indented or whitespace-started line: kustomize's value has an extra line
 *   break before it (`>-` of `first\n  more` is "first\n\n  more" there, "first\n  more" here). The value shows it: a
 *   line break (or the start) followed by a space or tab, which folding of plain lines never gives. It is go-yaml's
 *   writing, not its reading: kustomize writes the value back in the folded style, which go-yaml v3 does wrongly
 *   (see `kustomizeFolded`); with `goValues` such a scalar takes that value where it is certain;
 * - a folded block scalar with keep chomping (`>+`): go-yaml keeps one more trailing line break.
 * Plain `>` and `>-`, blank lines among the lines, leading and trailing blank lines, an indentation indicator
 * (`>2`) and a comment after the header read the same (tests/validate/composedBuild.test.ts, against kubectl).
 */
function sameInGoYaml(document: Document.Parsed, text: string, goValues = false): boolean {
    let same = true;
    visit(document, {
        Pair(_, pair) {
            // With `merge: true` this parser's merge key holds a symbol; a quoted "<<" is declined. A merge of one map
            // (an alias of one, or one written in place) reads the same; a list of maps does not (kustomize lets a
            // later map's key win where an alias comes first: `<<: [*a, {k: 9}]`).
            if (isScalar(pair.key) && (typeof pair.key.value === "symbol" || pair.key.value === "<<")) {
                const value = isAlias(pair.value) ? pair.value.resolve(document) : pair.value;
                if (typeof pair.key.value !== "symbol" || !isMap(value)) same = false;
            }
            return same ? undefined : visit.BREAK;
        },
        Node(_, node) {
            if (node.tag !== undefined) same = false;
            else if (isScalar(node)) {
                const source = node.range ? text.slice(node.range[0], node.range[1]) : "";
                if (node.type === "PLAIN" && GO_NUMBER.test(source) && !(node.value === source && goYamlKeepsString(source))) {
                    // With goNumbers, a value (not a key) takes go-yaml's number where it is certain.
                    const number = goValues && _ !== "key" ? goYamlNumber(source) : undefined;
                    if (number === undefined) same = false;
                    else node.value = number;
                }
                else if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
                    if (!source.endsWith("\n")) same = false;
                    else if (node.type === "BLOCK_FOLDED") {
                        const header = /^>([-+1-9]{0,2})/.exec(source);
                        same = header !== null && !header[1].includes("+") && typeof node.value === "string";
                        if (same && /(^|\n)[ \t]/.test(node.value as string)) {
                            const value = goValues && _ !== "key" ? kustomizeFolded(node.value as string) : undefined;
                            if (value === undefined) same = false;
                            else node.value = value;
                        }
                    }
                }
            }
            return same ? undefined : visit.BREAK;
        },
    });
    return same;
}

/**
 * The value kustomize gives a folded block scalar with a more-indented line: go-yaml v3 (v3.0.1) writes it back in the
 * folded style (emitterc.go, yaml_emitter_write_folded_scalar) and reads that again. The writer puts an extra line
 * break after each line that does not start with a blank when the value's FIRST character is not blank (`k := 0`
 * where `k := i` was meant: it looks at the start of the value, not at the next line), so a line break before a
 * more-indented line, which the folded style keeps as it is, comes back doubled; reading the written text is YAML's
 * folding (the same in this parser; tried with kubectl: tests/validate/composedBuild.test.ts). Line wrapping at 80
 * columns reads back as the space it replaced. Undefined where not certain: a value starting with a blank or a line
 * break (the writer then adds an indentation hint and no extra breaks), one the writer would not write folded
 * (yaml_emitter_analyze_scalar: a space before a line break or at the end; characters other than printable ASCII,
 * tab included), keep chomping (two line breaks at the end).
 */
export function kustomizeFolded(value: string): string | undefined {
    if (value === "" || /^[ \t\n]/.test(value) || / \n| $|\n\n$/.test(value) || /[^\n\x20-\x7e]/.test(value)) return undefined;
    // The chomping hint (yaml_emitter_write_block_scalar_hints): strip without a final line break, clip with one.
    const lines = [`v: >${value.endsWith("\n") ? "" : "-"}`];
    let line = "";
    let breaks = true;
    let leadingSpaces = true;
    for (const c of value) {
        if (c === "\n") {
            lines.push(line);
            line = "";
            // The extra break: the first character of the value is not blank (checked above).
            if (!breaks && !leadingSpaces) lines.push("");
            breaks = true;
        } else {
            if (breaks) {
                line = "  ";
                leadingSpaces = c === " ";
            }
            line += c;
            breaks = false;
        }
    }
    if (!breaks) lines.push(line);
    const document = parseDocument(`${lines.join("\n")}\n`);
    const read = document.errors.length === 0 ? document.get("v") : undefined;
    return typeof read === "string" ? read : undefined;
}

/** A plain scalar go-yaml reads as a number YAML 1.2 reads otherwise (or might): a leading zero, `0b`, a sign before `0x`/`0o`, an underscore. */
const GO_NUMBER = /^[-+]?[0-9.][-+0-9A-Za-z.]*_|^[-+]?0[0-9bB]|^[-+]0[oOxX]/;

/**
 * The documents of a text as kustomize reads them, where that is certain although `plain` says no: the numbers go-yaml
 * reads otherwise (`0755`, `1_000`, `0b101`) take go-yaml's value (kustomize writes that value: `defaultMode: 0755`
 * comes out as 493), everything else as `sameInGoYaml` requires. Undefined: not certain (kustomize builds it).
 */
export function goYamlDocuments(text: string): unknown[] | undefined {
    if (/[\r\u0085\u2028\u2029]|^%|^\uFEFF/m.test(text)) return undefined;
    const documents: unknown[] = [];
    for (const document of parseAllDocuments(text, { merge: true })) {
        if (document.errors.length > 0 || !sameInGoYaml(document, text, true)) return undefined;
        const value: unknown = document.toJS();
        if (value !== null && value !== undefined) documents.push(value);
    }
    return documents;
}

/**
 * Whether go-yaml v3 keeps a plain scalar that starts like a number as the string it is (resolve.go, resolve(),
 * `case 'D', 'S'`): no timestamp (parseTimestamp wants four digits and a `-` first), no integer for
 * strconv.ParseInt(plain, 0, 64) and no yamlStyleFloat, with every `_` dropped (xunholy/k8s-gitops' init containers
 * `01-wait-db`, `025-module-sql` as keys). Anything that could be one of them: false (not certain).
 */
export function goYamlKeepsString(source: string): boolean {
    if (!/^[-+]?[0-9]/.test(source) || /^[0-9]{4}-/.test(source)) return false;
    const plain = source.replaceAll("_", "");
    if (/^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/.test(plain)) return false;
    return !/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain);
}

/**
 * go-yaml v3's number for a plain scalar that starts like one (resolve.go, resolve(), `case 'D', 'S'`): every `_`
 * dropped, then strconv.ParseInt(plain, 0, 64) (Go's base prefixes `0x`, `0o`, `0b`, and a bare leading `0` for
 * octal), then, where that fails, yamlStyleFloat `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` and
 * strconv.ParseFloat. Undefined where the result is not certain here: beyond 2^53, or no number (go-yaml then
 * tries a timestamp or keeps the string: declined rather than followed).
 */
export function goYamlNumber(source: string): number | undefined {
    const plain = source.replaceAll("_", "");
    const integer = /^([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(plain);
    if (integer) {
        const [, sign, hex, octal, binary, oldOctal, decimal] = integer;
        const value =
            hex !== undefined ? parseInt(hex, 16) : octal !== undefined ? parseInt(octal, 8) : binary !== undefined ? parseInt(binary, 2) : oldOctal !== undefined ? (oldOctal === "" ? 0 : parseInt(oldOctal, 8)) : parseInt(decimal, 10);
        if (!Number.isSafeInteger(value)) return undefined;
        return sign === "-" && value !== 0 ? -value : value;
    }
    if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) {
        const value = Number(plain);
        return Number.isFinite(value) && !Object.is(value, -0) ? value : undefined;
    }
    return undefined;
}

/** Parses a kustomize build's output stream; a parse failure here is a kustomize bug, so it throws. */
export function parseYamlStream(text: string): unknown[] {
    const parsed = parseYamlText("kustomize output", text);
    if (parsed.problems.length > 0) throw new Error(parsed.problems[0].message);
    return parsed.documents;
}
