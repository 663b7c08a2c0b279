import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { RenderError } from "./errors.ts";

export interface StackConfig {
    /** Full keys such as `flux-bucket:provider`, values as the Pulumi CLI hands them to a program (strings). */
    config: Record<string, string>;
    /** Keys whose value is `secure:` in the file; they get a visible placeholder instead. */
    secretKeys: string[];
}

/** What a `secure:` value becomes offline: it cannot be decrypted without the stack's secrets provider. */
export const secretPlaceholder = (key: string) => `<secret ${key}>`;

export function stackNames(root: string): string[] {
    return readdirSync(root)
        .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

export function stackFilePath(root: string, stack: string): string | undefined {
    return ["yaml", "yml"].map((ext) => path.join(root, `Pulumi.${stack}.${ext}`)).find((file) => existsSync(file));
}

/** Reads `Pulumi.<stack>.yaml` as the Pulumi CLI would hand it to the program. */
export function readStackFile(root: string, stack: string): StackConfig {
    const file = stackFilePath(root, stack);
    if (!file) {
        throw new RenderError(`no stack "${stack}": Pulumi.${stack}.yaml does not exist; stacks here: ${stackNames(root).join(", ") || "none"}`);
    }
    const name = path.basename(file);
    const document = parseDocument(readFileSync(file, "utf8"), { prettyErrors: true });
    if (document.errors.length > 0) throw new RenderError(`${name} is not valid YAML: ${document.errors[0].message}`);
    const content = document.toJS() ?? {};
    const raw = content.config ?? {};
    if (typeof raw !== "object" || Array.isArray(raw)) throw new RenderError(`${name}: "config" must be a map of <namespace>:<key> to values`);

    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (!/^[\w.-]+:[\w.-]+$/.test(key)) throw new RenderError(`${name}: config key "${key}" is not of the form <namespace>:<key>`);
        if (value !== null && typeof value === "object" && "secure" in value) {
            config[key] = secretPlaceholder(key);
            secretKeys.push(key);
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { config, secretKeys };
}
