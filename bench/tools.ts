import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..");

/** A command line to time, with the environment it runs in (merged over a clean copy of ours). */
export interface Command {
    argv: string[];
    env?: Record<string, string | undefined>;
    cwd?: string;
}

/** moto accepts any credentials; every tool gets these and no profile, CA bundle or metadata lookup. */
export const S3_ENV: Record<string, string | undefined> = {
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PROFILE: undefined,
    AWS_CA_BUNDLE: undefined,
};

/** aws-cli v2 from Debian's awscli package; a pyenv `aws` shim earlier on PATH would be another tool. */
export const AWS_CLI = "/usr/bin/aws";
/** GNU time, which reports a child's peak RSS (Debian package `time`). */
export const GNU_TIME = "/usr/bin/time";

interface Tool {
    name: string;
    probe: string[];
    install: string;
}

const TOOLS: Tool[] = [
    { name: "aws-cli v2", probe: [AWS_CLI, "--version"], install: "apt-get update && apt-get install -y awscli" },
    { name: "rclone", probe: ["rclone", "version"], install: "apt-get update && apt-get install -y rclone" },
    {
        name: "kubectl",
        probe: [process.env.KUBECTL ?? "kubectl", "version", "--client"],
        install: "see https://kubernetes.io/docs/tasks/tools/ (bucketops push validates with `kubectl kustomize`)",
    },
    { name: "moto_server", probe: ["python3", "-c", "import moto; print('moto', moto.__version__)"], install: "pip install 'moto[server]'" },
    { name: "GNU time (peak RSS)", probe: [GNU_TIME, "--version"], install: "apt-get update && apt-get install -y time" },
];

function firstLine(argv: string[]): string | undefined {
    const result = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    if (result.error || result.status !== 0) return undefined;
    return `${result.stdout}${result.stderr}`.trim().split("\n")[0];
}

/** Each tool's version line; throws naming how to install whatever is missing. */
export function checkTools(): Record<string, string> {
    const versions: Record<string, string> = {};
    const missing: string[] = [];
    for (const tool of TOOLS) {
        const version = firstLine(tool.probe);
        if (version) versions[tool.name] = version;
        else missing.push(`  ${tool.name}: not found (\`${tool.probe.join(" ")}\` failed). Install it with: ${tool.install}`);
    }
    if (spawnSync("moto_server", ["--help"]).status !== 0) {
        missing.push("  moto_server: not on PATH. Install it with: pip install 'moto[server]'");
    }
    if (missing.length > 0) throw new Error(`the benchmark needs tools that are missing:\n${missing.join("\n")}`);
    return versions;
}

/** S3_ENV with the bench's own Node first on PATH, for what starts `node` from PATH: so that it is the Node measured. */
const thisNodeFirst = () => ({ ...S3_ENV, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` });

export const bucketopsCommand = (args: string[]): Command => ({
    // What `npx bucketops` runs, without npx's own package lookup: the bin as a program, which starts `node` from PATH
    // with its V8 settings (bin/bucketops.js).
    argv: [path.join(REPO_ROOT, "bin", "bucketops.js"), ...args],
    env: thisNodeFirst(),
});

/**
 * The V8 options bin/bucketops.js starts Node with (its second line, sh's: `exec node <options> "$0" "$@"`), read from
 * there so that the floor below starts as the bin does.
 */
export function binNodeOptions(): string[] {
    const launch = readFileSync(path.join(REPO_ROOT, "bin", "bucketops.js"), "utf8").split("\n")[1];
    const options = /exec node ((?:--\S+ )+)"\$0"/.exec(launch)?.[1];
    if (!options) throw new Error(`bin/bucketops.js: no 'exec node <options> "$0"' on its second line: ${launch}`);
    return options.trim().split(" ");
}

/**
 * bench/sdkFloor.cjs: Node, started as the bin starts it (through sh, with its options), the SDK, one listing and a
 * PutObject per changed file; what every push through @aws-sdk/client-s3 costs before any bucketops code runs.
 */
export const sdkFloorCommand = (dir: string, bucket: string, prefix: string, endpoint: string): Command => ({
    argv: ["/bin/sh", "-c", 'exec node "$@"', "sdk-floor", ...binNodeOptions(), path.join(REPO_ROOT, "bench", "sdkFloor.cjs"), dir, endpoint, bucket, prefix],
    env: thisNodeFirst(),
});

export const awsSyncCommand = (dir: string, bucket: string, prefix: string, endpoint: string): Command => ({
    // --delete gives it the same end state as the other two (it deletes nothing in these cases).
    argv: [AWS_CLI, "s3", "sync", dir, `s3://${bucket}/${prefix}`, "--delete", "--endpoint-url", endpoint],
    env: S3_ENV,
});

/** An rclone remote named `bench` for the server, from the environment alone (no config file). */
export const rcloneRemoteEnv = (endpoint: string): Record<string, string> => ({
    RCLONE_CONFIG: "/dev/null",
    RCLONE_CONFIG_BENCH_TYPE: "s3",
    RCLONE_CONFIG_BENCH_PROVIDER: "Other",
    RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: "test",
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: "test",
    RCLONE_CONFIG_BENCH_REGION: "us-east-1",
});

export const rcloneSyncCommand = (dir: string, bucket: string, prefix: string, endpoint: string): Command => ({
    argv: ["rclone", "sync", dir, `bench:${bucket}/${prefix}`],
    env: { ...S3_ENV, ...rcloneRemoteEnv(endpoint) },
});

/** rclone with bucketops' semantics: compare MD5s (`--checksum`) from one recursive listing (`--fast-list`), no HEADs. */
export const rcloneChecksumCommand = (dir: string, bucket: string, prefix: string, endpoint: string): Command => ({
    argv: ["rclone", "sync", "--checksum", "--fast-list", dir, `bench:${bucket}/${prefix}`],
    env: { ...S3_ENV, ...rcloneRemoteEnv(endpoint) },
});
