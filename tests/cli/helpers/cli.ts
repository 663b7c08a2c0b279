import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHash } from "node:crypto";
import { main } from "../../../src/cli/main.ts";

export interface Run {
    code: number;
    out: string;
    err: string;
}

/** Runs `bucketops <args>` in this process and captures what it prints. */
export async function bucketops(...args: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    // Records every argument, as console.log would print them, so a stray extra argument shows up.
    const record = (lines: string[]) => (...parts: unknown[]) => lines.push(parts.map(String).join(" "));
    const code = await main(args, { out: record(out), err: record(err) });
    return { code, out: out.join("\n"), err: err.join("\n") };
}

/** One state of `bucketops history --json`. */
export interface JsonState {
    time: string;
    revision: string;
    objects: number;
    added: string[];
    modified: string[];
    removed: string[];
    incomplete: boolean;
}

/** The states a successful `history --json` printed. */
export function states(run: Run): JsonState[] {
    if (run.code !== 0) throw new Error(`history failed (${run.code}): ${run.err}`);
    return JSON.parse(run.out) as JsonState[];
}

/** The revision a push or rollback printed last. */
export function printedRevision(run: Run): string {
    const matches = [...run.out.matchAll(/sha256:[0-9a-f]{64}/g)];
    if (matches.length === 0) throw new Error(`no revision in output:\n${run.out}\n${run.err}`);
    return matches.at(-1)![0];
}

export const md5 = (text: string) => createHash("md5").update(text).digest("hex");
export const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/** The revision Flux computes for objects (full key → body) uploaded in one part: etag = MD5 of the body. */
export function revisionOf(objects: Record<string, string>, ignored: (key: string) => boolean = () => false): string {
    const keys = Object.keys(objects).filter((key) => !ignored(key)).sort();
    return sha256(keys.map((key) => `${key} ${md5(objects[key])}\n`).join(""));
}

/** The files (relative path → body) as the keys they get under `prefix`. */
export function prefixed(prefix: string, files: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(files).map(([name, body]) => [prefix + name, body]));
}

/** A temporary directory holding `files` (relative path → content). */
export function writeTree(files: Record<string, string>, root = mkdtempSync(path.join(tmpdir(), "bucketops-tree-"))): string {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
        const file = path.join(root, name);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, content);
    }
    return root;
}

export function configMap(name: string, value: string): string {
    return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n  value: "${value}"\n`;
}

/** A valid tree: a kustomization over n ConfigMaps whose data carries `tag`. */
export function manifestTree(names: string[], tag: string): Record<string, string> {
    const files: Record<string, string> = {
        "kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${names.map((n) => `  - ${n}.yaml\n`).join("")}`,
    };
    for (const name of names) files[`${name}.yaml`] = configMap(name, `${name}-${tag}`);
    return files;
}
