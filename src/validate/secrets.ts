import { readFile } from "node:fs/promises";
import path from "node:path";
import { lintSource } from "@secretlint/core";
import { secretLintProfiler } from "@secretlint/profiler";
import type { SecretLintRuleCreator } from "@secretlint/types";
import { creator as recommended } from "@secretlint/secretlint-rule-preset-recommend";
import { parseAllDocuments } from "yaml";
import { mapBounded } from "../fs/bounded.ts";
import { isKustomizationFile } from "./kustomizationFile.ts";
import { isRecord, objectLabel, type Problem } from "./problems.ts";

/**
 * Secrets that must not reach a bucket in the clear: whoever may read the prefix (Flux's identity, a CI reader)
 * reads every version of every object, and a deleted object keeps its versions. Two checks on the files a push ships:
 *
 * - a Kubernetes Secret whose `data`/`stringData` values are not SOPS-encrypted, judged as Flux's kustomize-controller
 *   v1.8.5 decrypts (internal/decryptor/decryptor.go): an object with a `sops` field holding a `mac`
 *   (isSOPSEncryptedResource, line 869) has its values encrypted as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`
 *   (getsops/sops v3.13.2 aes/cipher.go:55; an empty value stays empty), and a Secret without one may hold, per `data`
 *   entry, a whole SOPS-encrypted file, told by its marker bytes (sopsFormatToMarkerBytes, line 110); the same goes
 *   for a kustomization's secretGenerator: its literals are plain, its files and env files must carry the marker;
 * - any file matching a well-known credential pattern (cloud keys, private keys, tokens, credentials in URLs), by
 *   secretlint's recommended rules (@secretlint/secretlint-rule-preset-recommend), not a list of our own.
 */

/** kustomize-controller v1.8.5 internal/decryptor/decryptor.go:110, sopsFormatToMarkerBytes. */
const SOPS_MARKERS = ['"mac": "ENC[', "sops_mac=ENC[", "[sops]", "mac: ENC["];
/**
 * A value that names a variable of Flux's post-build substitution (`${NAME}`, `${NAME:=default}`: the Kustomization's
 * spec.postBuild, whose values come from its substituteFrom Secrets at apply time): the secret is not in the file.
 */
const FLUX_VARIABLE = /\$\{[_a-zA-Z][_a-zA-Z0-9]*(?::?[-=?+][^}]*)?\}/;
/** getsops/sops v3.13.2 aes/cipher.go:55 (encre). */
const SOPS_VALUE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

/**
 * Two of gitleaks' rules (gitleaks/gitleaks v8.30.0 config/gitleaks.toml, ids `age-secret-key` and `private-key`, their
 * regexes as they are there, `(?i)` as the `i` flag) for what secretlint's recommended preset does not catch and a Flux
 * repository is the likeliest to hold: the age identity SOPS decrypts with (Flux's SOPS guide keeps it in `age.agekey`),
 * and armored PGP private keys (secretlint's privatekey rule takes only ASN.1 and OpenSSH bodies).
 */
const GITLEAKS_RULES = [
    { id: "age-secret-key", messageId: "AgeSecretKey", pattern: /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/g },
    { id: "private-key", messageId: "PrivateKey", pattern: /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----/gi },
];

const gitleaks: SecretLintRuleCreator = {
    messages: {
        AgeSecretKey: { en: () => "found an age secret key (gitleaks age-secret-key)" },
        PrivateKey: { en: () => "found a private key (gitleaks private-key)" },
    },
    meta: { id: "gitleaks", recommended: true, type: "scanner", supportedContentTypes: ["text"], docs: { url: "https://github.com/gitleaks/gitleaks" } },
    create(context) {
        const t = context.createTranslator(gitleaks.messages);
        return {
            file(source) {
                for (const rule of GITLEAKS_RULES) {
                    for (const match of source.content.matchAll(rule.pattern)) {
                        context.report({ message: t(rule.messageId as "AgeSecretKey" | "PrivateKey"), range: [match.index, match.index + match[0].length] });
                    }
                }
            },
        };
    },
};

// secretlint's profiler is on unless told otherwise: a performance mark per rule and file that nothing reads here
// (a quarter of the scan's CPU). secretlint's own CLI turns it off unless --profile (secretlint/secretlint#1633).
secretLintProfiler.setEnabled(false);

/** The rules, and which files they skip: binary content, and files too large to be manifests. */
const CONFIG = {
    rules: [
        { id: "@secretlint/secretlint-rule-preset-recommend", rule: recommended },
        { id: "gitleaks", rule: gitleaks },
    ],
};
const MAX_SCANNED_BYTES = 10 * 1024 * 1024;

export const HOW_TO_ENCRYPT =
    "encrypt it with SOPS (sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place <file>, decrypted by the " +
    "Flux Kustomization's spec.decryption), or keep it out of the tree with Sealed Secrets or the External Secrets Operator";

export interface ShippedFile {
    /** Path relative to the tree root, '/'-separated. */
    relative: string;
    absolute: string;
}

/**
 * Files found clean before, by path and content (src/cli/validationCache.ts): no plain Secret and no credential, and
 * no secretGenerator (whose verdict depends on other files).
 */
export interface CleanFiles {
    known(file: ShippedFile): boolean;
    remember(file: ShippedFile): void;
}

/**
 * Every plain Secret and credential among the files, as problems naming the file (relative to the tree) and, for a
 * Secret, the object and its first plain key. Values are never repeated in a message. A file `clean` knows is not
 * read again: a tree with one file changed is scanned in that file (and its kustomizations with a secretGenerator).
 */
export async function findSecrets(files: ShippedFile[], clean?: CleanFiles): Promise<Problem[]> {
    const byPath = new Map(files.map((file) => [file.relative, file]));
    const found = await mapBounded(files, async (file) => {
        if (clean?.known(file)) return [];
        const content = await readFile(file.absolute);
        if (content.length > MAX_SCANNED_BYTES || content.includes(0)) return [];
        const text = content.toString("utf8");
        const generated = isKustomizationFile(file.absolute) && text.includes("secretGenerator");
        const problems = [...plainSecrets(file, text), ...(generated ? await plainGeneratedSecrets(file, text, byPath) : []), ...(await credentials(file, text))];
        if (problems.length === 0 && !generated) clean?.remember(file);
        return problems;
    });
    return found.flat();
}

function plainSecrets(file: ShippedFile, text: string): Problem[] {
    if (!/\.ya?ml$/i.test(file.relative) || !/kind:\s*["']?Secret\b/.test(text)) return [];
    const problems: Problem[] = [];
    for (const document of parseAllDocuments(text)) {
        const object: unknown = document.errors.length === 0 ? document.toJS() : undefined;
        if (!isRecord(object) || object.kind !== "Secret") continue;
        const plain = plainKeys(object);
        if (plain.length > 0) {
            problems.push({
                file: file.relative,
                object: objectLabel(object),
                field: plain.join(", "),
                message: `${plain.length === 1 ? "is" : "are"} not encrypted: this Secret would be readable by everyone who can read the bucket, in every version it keeps. Refused; ${HOW_TO_ENCRYPT}`,
            });
        }
    }
    return problems;
}

/** The `data`/`stringData` keys whose values are in the clear, as `data.<key>`: none when every value is encrypted. */
export function plainKeys(secret: Record<string, unknown>): string[] {
    const plain: string[] = [];
    const sops = isRecord(secret.sops) ? secret.sops : undefined;
    const sopsEncrypted = sops !== undefined && sops.mac !== undefined && sops.mac !== null && sops.mac !== "";
    for (const field of ["data", "stringData"] as const) {
        const values = secret[field];
        if (!isRecord(values)) continue;
        for (const [key, value] of Object.entries(values)) {
            if (value === null || value === undefined || value === "") continue;
            const text = String(value);
            if (sopsEncrypted && SOPS_VALUE.test(text)) continue;
            // A whole SOPS-encrypted file as one entry (kustomize-controller decrypts such `data` entries).
            const decoded = field === "data" ? Buffer.from(text, "base64").toString("utf8") : text;
            if (SOPS_MARKERS.some((marker) => decoded.includes(marker))) continue;
            if (FLUX_VARIABLE.test(decoded)) continue;
            plain.push(`${field}.${key}`);
        }
    }
    return plain;
}

/** A kustomization's secretGenerator: literals are plain; files and env files must be SOPS-encrypted files of the tree. */
async function plainGeneratedSecrets(file: ShippedFile, text: string, byPath: Map<string, ShippedFile>): Promise<Problem[]> {
    if (!isKustomizationFile(file.absolute) || !text.includes("secretGenerator")) return [];
    const [document] = parseAllDocuments(text);
    const content: unknown = document && document.errors.length === 0 ? document.toJS() : undefined;
    const generators = isRecord(content) && Array.isArray(content.secretGenerator) ? content.secretGenerator : [];
    const problems: Problem[] = [];
    const folder = path.posix.dirname(file.relative);
    for (const [i, generator] of generators.entries()) {
        if (!isRecord(generator)) continue;
        const name = typeof generator.name === "string" ? generator.name : "(no name)";
        const problem = (field: string, what: string) =>
            problems.push({ file: file.relative, object: `secretGenerator/${name}`, field: `secretGenerator[${i}].${field}`, message: `${what}. Refused; ${HOW_TO_ENCRYPT}` });
        if (Array.isArray(generator.literals) && generator.literals.length > 0) problem("literals", "puts values in the clear in the tree");
        for (const field of ["files", "envs"] as const) {
            const sources = Array.isArray(generator[field]) ? generator[field] : [];
            for (const [j, source] of sources.entries()) {
                if (typeof source !== "string") continue;
                const relative = path.posix.normalize(path.posix.join(folder, source.includes("=") ? source.slice(source.indexOf("=") + 1) : source));
                const referenced = byPath.get(relative);
                if (!referenced) continue; // missing or outside the tree: validation says so
                const body = await readFile(referenced.absolute, "utf8").catch(() => "");
                if (!SOPS_MARKERS.some((marker) => body.includes(marker))) problem(`${field}[${j}]`, `"${source}" is not a SOPS-encrypted file`);
            }
        }
    }
    return problems;
}

async function credentials(file: ShippedFile, content: string): Promise<Problem[]> {
    const result = await lintSource({
        source: { content, filePath: file.relative, ext: path.extname(file.relative), contentType: "text" },
        options: { config: CONFIG, maskSecrets: true },
    });
    // A key both rule sets find is reported once, by secretlint.
    const messages = result.messages.filter(
        (message, _, all) =>
            message.ruleId !== "gitleaks" || !all.some((other) => other.ruleId !== "gitleaks" && other.range[0] < message.range[1] && message.range[0] < other.range[1]),
    );
    return messages.map((message) => ({
        file: file.relative,
        object: "",
        field: `line ${message.loc.start.line}`,
        message:
            `${message.message.replace(/:\s*\**$/, "")}${message.ruleId === "gitleaks" ? "" : ` (secretlint ${message.ruleId.replace(/^@secretlint\/secretlint-rule-/, "")}, ${message.messageId})`}. ` +
            `Refused: a credential in the bucket is readable by everyone who can read it, in every version it keeps; ` +
            `move it to a Secret and ${HOW_TO_ENCRYPT}`,
    }));
}
