import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Command } from "./tools.ts";
import { GNU_TIME, REPO_ROOT } from "./tools.ts";

export interface Timed {
    ms: number;
    exitCode: number;
    output: string;
    /** Peak resident set size of the command's process, when asked for (GNU time's %M). */
    peakRssKb?: number;
}


function environment(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env = { ...process.env };
    for (const [name, value] of Object.entries(overrides)) {
        if (value === undefined) delete env[name];
        else env[name] = value;
    }
    return env;
}

/**
 * Wall time of the whole command, from spawn to exit, with its output kept for error messages; with `peakRss`,
 * the command runs under GNU time, which writes the peak RSS to a scratch file.
 */
export async function timeCommand(command: Command, options: { peakRss?: boolean } = {}): Promise<Timed> {
    const rssFile = options.peakRss ? path.join(mkdtempSync(path.join(tmpdir(), "bench-rss-")), "rss") : undefined;
    const [file, ...args] = rssFile ? [GNU_TIME, "-o", rssFile, "-f", "%M", ...command.argv] : command.argv;
    const start = performance.now();
    const child = spawn(file, args, { cwd: command.cwd ?? REPO_ROOT, env: environment(command.env), stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    const exitCode = await new Promise<number>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code) => resolve(code ?? 1));
    });
    const ms = performance.now() - start;
    const peakRssKb = rssFile ? Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) : undefined;
    if (rssFile) rmSync(path.dirname(rssFile), { recursive: true, force: true });
    return { ms, exitCode, output: Buffer.concat(chunks).toString("utf8"), peakRssKb };
}

/** Runs the command and fails with its output unless it exits 0. */
export async function runOrFail(command: Command, options: { peakRss?: boolean } = {}): Promise<Timed> {
    const timed = await timeCommand(command, options);
    if (timed.exitCode !== 0) {
        const tail = timed.output.trim().split("\n").slice(-15).join("\n");
        throw new Error(`\`${command.argv.join(" ")}\` exited with ${timed.exitCode}:\n${tail}`);
    }
    return timed;
}

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
