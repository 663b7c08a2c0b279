import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { CliError } from "./errors";
import type { LocalFile } from "./tree";

type ValidateTree = (dir: string) => Promise<void>;

/** The shared validator (src/validate), once it exports `validateTree`; the variable path keeps tsc from requiring it. */
async function sharedValidator(): Promise<ValidateTree | undefined> {
    const modulePath = "../validate/index";
    try {
        const loaded = (await import(modulePath)) as { validateTree?: ValidateTree };
        return typeof loaded.validateTree === "function" ? loaded.validateTree : undefined;
    } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") return undefined;
        throw error;
    }
}

/**
 * Validates the tree before anything is uploaded: the project's validator from src/validate when
 * present, else every YAML file must parse and every kustomization directory must build.
 */
export async function validateManifests(root: string, files: LocalFile[]): Promise<void> {
    const validateTree = await sharedValidator();
    try {
        if (validateTree) await validateTree(root);
        else await minimalValidation(root, files);
    } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError(`validation failed, nothing was uploaded:\n${(error as Error).message ?? String(error)}`);
    }
}

const KUSTOMIZATION_FILES = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization"]);
const run = promisify(execFile);

async function minimalValidation(root: string, files: LocalFile[]): Promise<void> {
    const problems: string[] = [];
    for (const file of files.filter((f) => /\.ya?ml$/i.test(f.relative))) {
        const documents = parseAllDocuments(await readFile(file.absolute, "utf8"));
        const list = Array.isArray(documents) ? documents : [documents];
        for (const error of list.flatMap((doc) => doc.errors)) {
            const [line, col] = error.linePos?.[0] ? [error.linePos[0].line, error.linePos[0].col] : [0, 0];
            problems.push(`${file.relative}:${line}:${col}: ${error.message.split("\n")[0]}`);
        }
    }
    if (problems.length === 0) {
        const dirs = files
            .filter((f) => KUSTOMIZATION_FILES.has(path.posix.basename(f.relative)))
            .map((f) => path.posix.dirname(f.relative));
        for (const dir of dirs) {
            try {
                await run("kubectl", ["kustomize", path.join(root, dir)], { maxBuffer: 64 * 1024 * 1024 });
            } catch (error) {
                const stderr = (error as { stderr?: string }).stderr?.trim();
                problems.push(`kustomize build ${dir === "." ? "." : dir}: ${stderr || (error as Error).message}`);
            }
        }
    }
    if (problems.length > 0) throw new Error(problems.join("\n"));
}
