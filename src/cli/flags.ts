import { InvalidArgumentError, Option, type Command } from "commander";
import { normalizePrefix } from "../bucket/keys.ts";
import type { ConnectionFlags, StackOutputs } from "./connection.ts";
import type { LeaseSettings } from "./guardedWrite.ts";
import type { ValidationChecks } from "./validate.ts";
import { DEFAULT_TIMEOUTS } from "./store/types.ts";

/**
 * The flag groups the commands share, declared once each with their types and parsers: the connection to the bucket,
 * Flux's spec.ignore, the lease, the cluster, and the publish (suspend, wait). A command adds the groups it takes.
 */

export type { ConnectionFlags };

/** Defaults written once: the commands' options and `npm run up`'s push (src/lifecycle/delivery.ts) use these. */
export const DEFAULTS = {
    concurrency: 16,
    /** --wait-timeout: seconds to wait for the cluster to apply a push or rollback. */
    waitTimeout: 300,
    /** --wait-lock: seconds to wait for another writer's lease. */
    waitLock: 0,
    /** status --interval: seconds between polls. */
    statusInterval: 2,
    connectTimeout: DEFAULT_TIMEOUTS.connectMs / 1000,
    timeout: DEFAULT_TIMEOUTS.requestMs / 1000,
} as const;

// Parsers: each refuses what it cannot take, and commander turns that into a usage error (exit 2).

export function positiveInt(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError("expected an integer from 1 to 256");
    return n;
}

export function seconds(value: string): number {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 86_400) throw new InvalidArgumentError("expected seconds from 0 to 86400");
    return n;
}

export function timeoutSeconds(value: string): number {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError("expected seconds, more than 0 and at most 3600");
    return n;
}

export function collect(value: string, previous: string[] = []): string[] {
    return [...previous, value];
}

// Groups.

/** The network timeouts, shared by the bucket commands and the cluster commands (the Kubernetes API). */
export function timeoutOptions(command: Command): Command {
    return command
        .addOption(new Option("--connect-timeout <seconds>", "give up connecting after this long").argParser(timeoutSeconds).default(DEFAULTS.connectTimeout))
        .addOption(
            new Option("--timeout <seconds>", `give up on a request that gets no answer for this long (it is tried ${DEFAULT_TIMEOUTS.attempts} times)`)
                .argParser(timeoutSeconds)
                .default(DEFAULTS.timeout),
        );
}

/** Where the bucket is and how to reach it. */
export function connectionOptions(command: Command): Command {
    return timeoutOptions(command)
        .option("--endpoint <url|host>", "S3-compatible endpoint or GCS API endpoint (a bare host means https)")
        .option("--insecure", "plain http for a bare-host endpoint, as Flux's spec.insecure")
        .option("--region <region>", "S3 region (default: AWS_REGION, the stack outputs, else us-east-1)")
        .option("--profile <name>", "AWS shared-config profile")
        .option(
            "--from-stack-outputs <file.json>",
            "`pulumi stack output --json --show-secrets` of the infra stack (endpoint, region, credentials, kubeconfig) or the flux stack (namespace, Bucket name); repeatable",
            collect,
        );
}

export interface IgnoreFlags {
    ignore?: string[];
}

export function ignoreOption(command: Command): Command {
    return command.option("--ignore <pattern>", "the Bucket's spec.ignore patterns (repeatable)", collect);
}

/** spec.ignore as one multi-line string, from repeated --ignore flags. */
export function specIgnore(flags: IgnoreFlags): string | undefined {
    return flags.ignore?.join("\n");
}

export interface LeaseFlags {
    waitLock: number;
    breakLock?: boolean;
    /** --no-conditional-writes sets it false. */
    conditionalWrites?: boolean;
}

/** The lease on the prefix, for the commands that write it. */
export function leaseOptions(command: Command): Command {
    return command
        .addOption(
            new Option("--wait-lock <seconds>", "wait this long for another push or rollback on the prefix to finish").argParser(seconds).default(DEFAULTS.waitLock),
        )
        .option("--break-lock", "take over a stale lease: one past its expiry, or whose process on this host is gone")
        .option("--no-conditional-writes", "do not send If-Match/If-None-Match (for servers without them; the lease is then advisory)");
}

/**
 * The lease settings of the flags; `rerun` is the command line, for the message that asks for --break-lock; `warn`
 * where a lease that could not be let go is said (stderr).
 */
export function leaseSettings(flags: LeaseFlags, rerun?: string, warn?: (line: string) => void): LeaseSettings {
    return { waitMs: flags.waitLock * 1000, breakStale: flags.breakLock ?? false, conditional: flags.conditionalWrites ?? true, rerun, warn };
}

/** `bucketops <args>` as a shell would take it back: arguments with anything but safe characters single-quoted. */
export function commandLine(args: string[]): string {
    const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
    return ["bucketops", ...args.map(quote)].join(" ");
}

/** Where the Flux Bucket is: the cluster, its namespace and name. */
export interface ClusterFlags extends ConnectionFlags {
    kubeconfig?: string;
    context?: string;
    /** Default: the flux stack outputs' namespace, else flux-system. */
    namespace?: string;
    /** Default: the flux stack outputs' bucket, else flux-bucket. */
    name?: string;
    /** --no-cluster: publish without the cluster even when a kubeconfig is there (push, rollback). */
    cluster?: boolean;
}

/**
 * The cluster flags of every command that talks to Flux. `writes`: push and rollback, which use a kubeconfig only when
 * one is named (--kubeconfig, the stack outputs, KUBECONFIG), never ~/.kube/config alone; status and resume read it too.
 */
export function clusterOptions(command: Command, writes: boolean): Command {
    const kubeconfig = writes
        ? "kubeconfig of the cluster whose Flux Bucket reads the prefix (default: the stack outputs' kubeconfig, else KUBECONFIG; ~/.kube/config alone is not used)"
        : "kubeconfig (default: the stack outputs' kubeconfig, else KUBECONFIG, else ~/.kube/config)";
    return command
        .option("--kubeconfig <file>", kubeconfig)
        .option("--context <name>", "kubeconfig context")
        .option("-n, --namespace <ns>", "namespace of the Bucket (default: the flux stack outputs' namespace, else flux-system)")
        .option("--name <bucket>", "name of the Flux Bucket object (default: the flux stack outputs' bucket, else flux-bucket)");
}

export interface WaitFlags {
    /** --no-wait: resume the Bucket, and exit without waiting for the apply. */
    wait: boolean;
    waitTimeout: number;
}

export type PublishFlags = ClusterFlags & WaitFlags;

/** The atomic publish and the wait for the apply, for the commands that write. */
export function publishOptions(command: Command): Command {
    return clusterOptions(command, true)
        .option("--no-cluster", "do not use the cluster even when a kubeconfig is there: the publish is then not atomic")
        .option("--no-wait", "resume the Bucket and exit, without waiting for the cluster to apply the change")
        .addOption(new Option("--wait-timeout <seconds>", "how long to wait for the cluster to apply the change").argParser(seconds).default(DEFAULTS.waitTimeout));
}

export interface ValidationFlags {
    skipBuild?: boolean;
    rootPath?: string;
    substitutePrefix?: boolean;
    strict?: boolean;
    schemaLocation?: string[];
    allowRemoteBases?: boolean;
    allowPlainSecrets?: boolean;
}

/** How a tree is validated before it is written (push, and promote of a release to another prefix). */
export function validationOptions(command: Command): Command {
    return command
        .option("--skip-build", "skip the kustomize builds of validation (every file is still parsed and schema-checked)")
        .option("--root-path <path>", "the root Kustomization's spec.path (the flux stack's kustomizationPath, e.g. ./clusters/dev): validation starts there (default: the flux stack outputs' for this prefix)")
        .option("--substitute-prefix", "the root Kustomization sets ${BUCKETOPS_PREFIX} to the prefix (the flux stack's substitutePrefix; default: its outputs' for this prefix)")
        .option("--strict", "an object whose kind no schema knows is an error, not a warning")
        .option("--schema-location <dir|template>", "JSON schemas in kubeconform's layout, local files only (repeatable)", collect)
        .option("--allow-remote-bases", "let kustomize fetch remote bases and URL resources while validating (reaches the network)")
        .option("--allow-plain-secrets", "ship Secrets that are not SOPS-encrypted and files that match credential patterns (refused by default)");
}

/**
 * What validation checks for a tree written under `prefix`: the flags, else what the flux stack's outputs say of its
 * root Kustomization when that stack's Bucket reads this prefix.
 */
export function validationChecks(flags: ValidationFlags, outputs: StackOutputs, prefix: string): ValidationChecks {
    const root = outputs.prefix !== undefined && normalizePrefix(outputs.prefix) === normalizePrefix(prefix) ? outputs : {};
    return {
        rootPath: flags.rootPath ?? root.kustomizationPath,
        substitutePrefix: flags.substitutePrefix ?? root.substitutePrefix,
        strict: flags.strict,
        schemaLocations: flags.schemaLocation,
        allowRemote: flags.allowRemoteBases,
    };
}

/** An `Examples:` block after a command's options, as flux's help has one (each example: a comment, then the command). */
export function examples(...pairs: [comment: string, command: string][]): string {
    return `\nExamples:\n${pairs.map(([comment, command]) => `  # ${comment}\n  ${command}`).join("\n\n")}`;
}
