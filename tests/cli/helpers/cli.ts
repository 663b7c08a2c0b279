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
    indexed: number;
    added: string[];
    modified: string[];
    removed: string[];
    incomplete: boolean;
    writing?: boolean;
    source: "release" | "inferred";
    external: boolean;
    number?: number;
    release?: { command: string; number?: number; id?: string; replaced?: { number?: number; revision: string }; revision: string; identity: string; user: string; message?: string; git?: { commit: string; branch?: string; dirty: boolean; author: string; remote?: string } };
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
