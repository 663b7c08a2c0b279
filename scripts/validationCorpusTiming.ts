// The --time part of scripts/validationCorpus.ts: each tree pushed to moto_server (tests/support/moto.ts, started
// once, on 127.0.0.1) by `bucketops push` (validation on, an empty validation cache: cold; then the same tree again:
// unchanged; then with one file changed) and by `aws s3 sync` (bench/tools.ts' command, same three runs), each into
// its own fresh versioned bucket.
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
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
 * Seconds: bucketops cold, unchanged and one change, aws cold, unchanged and one change. The tree is pushed from a
 * copy, in which "one change" appends a comment line to one YAML file (the first under the root path, or under the
 * tree): its content changes, so push validates the tree again (the parse cache answers for the other files) and
 * both tools upload that file. A tree holding a Secret in the clear is refused by push's secret scan: it is timed with
 * --allow-plain-secrets (in a new bucket, with a new cache: cold again), and `plainSecrets` is 1.
 */
export async function timePushes(treeDir: string, rootPath?: string): Promise<Record<string, number>> {
    moto ??= Moto.start();
    const server = await moto;
    const label = path.basename(treeDir).toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 30);
    const copy = mkdtempSync(path.join(tmpdir(), "corpus-tree-"));
    const cache = mkdtempSync(path.join(tmpdir(), "bucketops-cache-"));
    try {
        // verbatimSymlinks: a relative symlink stays relative (pointing inside the copy), as in the tree.
        cpSync(realpathSync(treeDir), copy, { recursive: true, verbatimSymlinks: true });
        const theirs = await server.freshBucket(`${label}-a`);
        let flags: string[] = [];
        let ours = await server.freshBucket(`${label}-b`);
        const bucketops = () => {
            const args = ["push", copy, `s3://${ours}`, "--endpoint", server.endpoint, "--no-cluster", ...(rootPath ? ["--root-path", rootPath] : []), ...flags];
            return timed(bucketopsCommand(args), { BUCKETOPS_CACHE_DIR: cache });
        };
        const aws = () => timed(awsSyncCommand(copy, theirs, "", server.endpoint));
        let bucketopsCold: number;
        try {
            bucketopsCold = await bucketops();
        } catch (error) {
            if (!/secret\(s\) in the clear/.test((error as Error).message)) throw error;
            flags = ["--allow-plain-secrets"];
            ours = await server.freshBucket(`${label}-p`);
            bucketopsCold = await bucketops();
        }
        const bucketopsUnchanged = await bucketops();
        const awsCold = await aws();
        const awsUnchanged = await aws();
        appendFileSync(changedFile(copy, rootPath), "\n# bucketops corpus timing: one change\n");
        const bucketopsOneChange = await bucketops();
        const awsOneChange = await aws();
        return { bucketopsCold, bucketopsUnchanged, bucketopsOneChange, awsCold, awsUnchanged, awsOneChange, ...(flags.length > 0 ? { plainSecrets: 1 } : {}) };
    } finally {
        rmSync(copy, { recursive: true, force: true });
        rmSync(cache, { recursive: true, force: true });
    }
}

/** The file "one change" changes: the first YAML file (by path) under the root path, else under the tree. */
function changedFile(tree: string, rootPath: string | undefined): string {
    const yamlUnder = (dir: string): string[] =>
        (readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[]).filter((entry) => /\.ya?ml$/.test(entry) && !entry.split(path.sep).includes(".git")).sort().map((entry) => path.join(dir, entry));
    const root = rootPath ? path.join(tree, rootPath) : undefined;
    const [file] = (root && existsSync(root) ? yamlUnder(root) : []).concat(yamlUnder(tree));
    if (!file) throw new Error(`${tree} has no YAML file to change`);
    return file;
}

export async function stopMoto(): Promise<void> {
    if (moto) (await moto).stop();
}
