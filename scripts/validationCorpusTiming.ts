// The --time part of scripts/validationCorpus.ts: each tree pushed to moto_server (tests/support/moto.ts, started
// once, on 127.0.0.1) by `bucketops push` (validation on, an empty validation cache: cold; then the same tree again:
// unchanged) and by `aws s3 sync` (bench/tools.ts' command, same two runs), each into its own fresh versioned bucket.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { awsSyncCommand, bucketopsCommand, type Command } from "../bench/tools.ts";
import { Moto } from "../tests/support/moto.ts";

let moto: Promise<Moto> | undefined;

/** Runs a command (asynchronously: moto's log pipe is read by this process and must keep flowing); its seconds. */
async function timed(command: Command, extraEnv: Record<string, string> = {}): Promise<number> {
    const start = performance.now();
    const child = spawn(command.argv[0], command.argv.slice(1), { env: { ...process.env, ...command.env, ...extraEnv }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", resolve);
    });
    const seconds = (performance.now() - start) / 1000;
    if (code !== 0) throw new Error(`${command.argv.join(" ")} failed (${code}):\n${stderr}`);
    return seconds;
}

/**
 * Seconds: bucketops cold, bucketops unchanged, aws cold, aws unchanged. A tree holding a Secret in the clear is
 * refused by push's secret scan: it is timed with --allow-plain-secrets (in a new bucket, with a new cache: cold
 * again), and `plainSecrets` is 1.
 */
export async function timePushes(treeDir: string, rootPath?: string): Promise<Record<string, number>> {
    moto ??= Moto.start();
    const server = await moto;
    const label = path.basename(treeDir).toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 30);
    const theirs = await server.freshBucket(`${label}-a`);
    let times: { bucketopsCold: number; bucketopsUnchanged: number };
    try {
        times = await timeBucketops(server, treeDir, `${label}-b`, rootPath, []);
    } catch (error) {
        if (!/secret\(s\) in the clear/.test((error as Error).message)) throw error;
        return { ...(await timeBucketops(server, treeDir, `${label}-p`, rootPath, ["--allow-plain-secrets"])), ...(await timeAws(server, treeDir, theirs)), plainSecrets: 1 };
    }
    return { ...times, ...(await timeAws(server, treeDir, theirs)) };
}

async function timeBucketops(server: Moto, treeDir: string, bucketLabel: string, rootPath: string | undefined, flags: string[]) {
    const ours = await server.freshBucket(bucketLabel);
    const cache = mkdtempSync(path.join(tmpdir(), "bucketops-cache-"));
    try {
        const args = ["push", treeDir, `s3://${ours}`, "--endpoint", server.endpoint, "--no-cluster", ...(rootPath ? ["--root-path", rootPath] : []), ...flags];
        const env = { BUCKETOPS_CACHE_DIR: cache };
        const bucketopsCold = await timed(bucketopsCommand(args), env);
        const bucketopsUnchanged = await timed(bucketopsCommand(args), env);
        return { bucketopsCold, bucketopsUnchanged };
    } finally {
        rmSync(cache, { recursive: true, force: true });
    }
}

async function timeAws(server: Moto, treeDir: string, bucket: string) {
    const awsCold = await timed(awsSyncCommand(treeDir, bucket, "", server.endpoint));
    const awsUnchanged = await timed(awsSyncCommand(treeDir, bucket, "", server.endpoint));
    return { awsCold, awsUnchanged };
}

export async function stopMoto(): Promise<void> {
    if (moto) (await moto).stop();
}
