import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { Command } from "./tools.ts";
import { REPO_ROOT } from "./tools.ts";

export interface Timed {
    ms: number;
    exitCode: number;
    output: string;
}

function environment(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env = { ...process.env };
    for (const [name, value] of Object.entries(overrides)) {
        if (value === undefined) delete env[name];
        else env[name] = value;
    }
    return env;
}

/** Wall time of the whole command, from spawn to exit, with its output kept for error messages. */
export async function timeCommand(command: Command): Promise<Timed> {
    const [file, ...args] = command.argv;
    const start = performance.now();
    const child = spawn(file, args, { cwd: command.cwd ?? REPO_ROOT, env: environment(command.env), stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    const exitCode = await new Promise<number>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code) => resolve(code ?? 1));
    });
    return { ms: performance.now() - start, exitCode, output: Buffer.concat(chunks).toString("utf8") };
}

/** Runs the command and fails with its output unless it exits 0. */
export async function runOrFail(command: Command): Promise<Timed> {
    const timed = await timeCommand(command);
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
