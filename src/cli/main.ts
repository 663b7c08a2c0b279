import { Command, InvalidArgumentError, Option } from "commander";
import { Stores, type ConnectionFlags } from "./connection.ts";
import { UserError } from "../errors.ts";
import { CliError, UsageError, tooManyOpenFiles } from "./errors.ts";
import { TreeEntryError } from "../fs/walk.ts";
import { historyReport, loadHistory } from "./history.ts";
import { push } from "./push.ts";
import { currentRevision } from "./revision.ts";
import { rollback } from "./rollback.ts";
import { diffStates, diffTree } from "./diff.ts";
import { awaitApply, openCluster, openPublication, repairSuspension, type ClusterFlags, type WaitFlags } from "./deliver.ts";
import { status } from "./status.ts";
import { ApplyFailedError } from "./waitForApply.ts";
import { ValidationCache } from "./validationCache.ts";
import { parseBucketUrl } from "./url.ts";
import { DEFAULT_TIMEOUTS } from "./store/types.ts";
import packageJson from "../../package.json" with { type: "json" };

// The SDK's notice that releases after January 2027 need Node 22 is noise on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Where a run writes, and the exit code an action chose without failing (status: 3 when behind). */
export interface Io {
    out: (line: string) => void;
    err: (line: string) => void;
    exitCode: number;
    /** Colour output (diff) for a terminal. */
    color?: boolean;
}

const VERSION: string = packageJson.version;

function positiveInt(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError("expected an integer from 1 to 256");
    return n;
}

function seconds(value: string): number {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 86_400) throw new InvalidArgumentError("expected seconds from 0 to 86400");
    return n;
}

function collect(value: string, previous: string[] = []): string[] {
    return [...previous, value];
}

/** spec.ignore as one multi-line string, from repeated --ignore flags. */
function specIgnore(flags: { ignore?: string[] }): string | undefined {
    return flags.ignore?.join("\n");
}

/** The network timeouts, shared by the bucket commands and status (the Kubernetes API). */
function withTimeouts(command: Command): Command {
    return command
        .addOption(new Option("--connect-timeout <seconds>", "give up connecting after this long").argParser(timeoutSeconds).default(DEFAULT_TIMEOUTS.connectMs / 1000))
        .addOption(
            new Option("--timeout <seconds>", `give up on a request that gets no answer for this long (it is tried ${DEFAULT_TIMEOUTS.attempts} times)`)
                .argParser(timeoutSeconds)
                .default(DEFAULT_TIMEOUTS.requestMs / 1000),
        );
}

function timeoutSeconds(value: string): number {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError("expected seconds, more than 0 and at most 3600");
    return n;
}

function withConnection(command: Command): Command {
    return withTimeouts(command)
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

/** An `Examples:` block after a command's options, as flux's help has one (each example: a comment, then the command). */
function examples(...pairs: [comment: string, command: string][]): string {
    return `\nExamples:\n${pairs.map(([comment, command]) => `  # ${comment}\n  ${command}`).join("\n\n")}`;
}

/** The lease on the prefix, for the commands that write it. */
function withLease(command: Command): Command {
    return command
        .addOption(
            new Option("--wait-lock <seconds>", "wait this long for another push or rollback on the prefix to finish").argParser(seconds).default(0),
        )
        .option("--break-lock", "take over a stale lease: one past its expiry, or whose process on this host is gone")
        .option("--no-conditional-writes", "do not send If-Match/If-None-Match (for servers without them; the lease is then advisory)");
}

function leaseOptions(flags: LeaseFlags) {
    return { waitMs: flags.waitLock * 1000, breakStale: flags.breakLock ?? false, conditional: flags.conditionalWrites };
}

interface LeaseFlags {
    waitLock: number;
    breakLock?: boolean;
    conditionalWrites: boolean;
}

/** Where the Flux Bucket is: the cluster, its namespace and name (status, resume, and the atomic publish of push and rollback). */
function withCluster(command: Command): Command {
    return command
        .option("--kubeconfig <file>", "kubeconfig (default: KUBECONFIG, ~/.kube/config, or the stack outputs' kubeconfig)")
        .option("--context <name>", "kubeconfig context")
        .option("-n, --namespace <ns>", "namespace of the Bucket (default: the flux stack outputs' namespace, else flux-system)")
        .option("--name <bucket>", "name of the Flux Bucket object (default: the flux stack outputs' bucket, else flux-bucket)");
}

/** The atomic publish and the wait for the apply, for the commands that write. */
function withPublish(command: Command): Command {
    return withCluster(command)
        .option("--no-cluster", "do not use the cluster even when a kubeconfig is there: the publish is then not atomic")
        .option("--no-wait", "resume the Bucket and exit, without waiting for the cluster to apply the change")
        .addOption(new Option("--wait-timeout <seconds>", "how long to wait for the cluster to apply the change").argParser(seconds).default(300));
}

function withIgnore(command: Command): Command {
    return command.option("--ignore <pattern>", "the Bucket's spec.ignore patterns (repeatable)", collect);
}

export function buildProgram(io: Io, stores: Stores): Command {
    const log = io.out;
    const program = new Command("bucketops")
        .description("GitOps from an object-storage bucket: validated push, Flux revisions, history, rollback, status")
        .version(VERSION, "-V, --version", "print bucketops' version")
        .exitOverride()
        .showHelpAfterError("(see 'bucketops <command> --help')")
        .configureOutput({
            writeOut: (text) => io.out(text.trimEnd()),
            writeErr: (text) => io.err(text.trimEnd()),
            outputError: (text) => io.err(`bucketops: ${text.replace(/^error: /, "").trimEnd()}`),
        });

    withPublish(withLease(withIgnore(withConnection(program.command("push")))))
        .description("validate a manifest tree and sync it to s3://bucket/prefix or gs://bucket/prefix")
        .addHelpText(
            "after",
            examples(
                ["Validate and upload deploy/ to an environment's prefix, with the infra stack's credentials", "pulumi stack output --json --show-secrets > infra.json\n  bucketops push ./deploy s3://my-bucket/prod --from-stack-outputs infra.json"],
                [
                    "Publish atomically on the stacks' cluster (suspend the Bucket, write, resume) and roll back if it fails to apply",
                    "bucketops push ./deploy s3://my-bucket/prod --from-stack-outputs infra.json --from-stack-outputs flux.json --rollback-on-failure",
                ],
                ["Show what would change, without changing anything", "bucketops push ./deploy s3://my-bucket/prod --dry-run"],
                ["Push to MinIO over plain http, waiting up to 2 minutes for another push to finish", "bucketops push ./deploy s3://manifests --endpoint minio.local:9000 --insecure --wait-lock 120"],
            ),
        )
        .argument("<dir>", "root of the manifest tree")
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .option("--prune", "delete objects no longer in the tree, once every upload succeeded (the default)")
        .option("--no-prune", "keep objects that are no longer in the tree")
        .option("--dry-run", "print the plan only")
        .option("--allow-unversioned", "push to a bucket without versioning: deletes and overwrites are then permanent")
        .option("--skip-build", "skip the kustomize builds of validation (every file is still parsed and schema-checked)")
        .option("--revalidate", "validate even a tree whose exact content passed validation before on this machine")
        .option("--root-path <path>", "the root Kustomization's spec.path (the flux stack's kustomizationPath, e.g. ./clusters/dev): validation starts there")
        .option("--strict", "an object whose kind no schema knows is an error, not a warning")
        .option("--schema-location <dir|template>", "JSON schemas in kubeconform's layout, local files only (repeatable)", collect)
        .option("--allow-remote-bases", "let kustomize fetch remote bases and URL resources while validating (reaches the network)")
        .addOption(new Option("--concurrency <n>", "parallel uploads").argParser(positiveInt).default(16))
        .option("--rollback-on-failure", "when the cluster fails to apply the push, restore the prefix's previous state (atomically) and wait for that")
        .option("-m, --message <text>", "why, for the release record that history shows (default: the tree's last commit subject)")
        .action(async (dir: string, url: string, flags: ConnectionFlags & PushFlags & LeaseFlags & ClusterFlags & WaitFlags) => {
            const store = await stores.open(url, flags);
            const publication = flags.dryRun ? undefined : await openPublication(flags, store, "push", log);
            const pushed = await push(dir, store, {
                message: flags.message,
                prune: flags.prune ?? true,
                dryRun: flags.dryRun ?? false,
                allowUnversioned: flags.allowUnversioned ?? false,
                skipBuild: flags.skipBuild ?? false,
                validationCache: flags.revalidate ? undefined : new ValidationCache(),
                validation: { rootPath: flags.rootPath, strict: flags.strict, schemaLocations: flags.schemaLocation, allowRemote: flags.allowRemoteBases },
                concurrency: flags.concurrency,
                lease: leaseOptions(flags),
                specIgnore: specIgnore(flags),
                publication,
                log,
            });
            if (!publication) return;
            try {
                await awaitApply(publication, store, flags, log);
            } catch (error) {
                if (!(error instanceof ApplyFailedError) || !flags.rollbackOnFailure) throw error;
                if (!pushed.before) throw new ApplyFailedError(`${error.message}\nnot rolled back: the prefix was empty before this push`);
                log(`the cluster failed to apply the push:\n${error.message}\nrolling back to the prefix's previous state, ${pushed.before}`);
                const again = await openPublication(flags, store, "rollback", log);
                await rollback(store, pushed.before, { ...rollbackDefaults(flags), publication: again, log });
                if (again) await awaitApply(again, store, flags, log);
                throw new ApplyFailedError(`${error.message}\nrolled back to ${pushed.before}${again && flags.wait ? ", which the cluster applied" : ""}`);
            }
        });

    withIgnore(withConnection(program.command("revision")))
        .description("print the revision Flux's source-controller reports for this bucket and prefix")
        .addHelpText(
            "after",
            examples(
                ["The revision a Bucket with spec.prefix prod/ reports", "bucketops revision s3://my-bucket/prod/"],
                ["With the Bucket's spec.ignore", "bucketops revision gs://my-bucket --ignore '*.md' --ignore 'docs/'"],
            ),
        )
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]; the prefix is used verbatim, as spec.prefix")
        .action(async (url: string, flags: ConnectionFlags & { ignore?: string[] }) => {
            const { revision } = await currentRevision(await stores.open(url, flags), parseBucketUrl(url).prefix, specIgnore(flags));
            log(revision);
        });

    withIgnore(withConnection(program.command("history")))
        .description("past states of the prefix, reconstructed from object versions")
        .addHelpText(
            "after",
            examples(
                ["Every state of the prefix, with the keys each one changed", "bucketops history s3://my-bucket/prod"],
                ["As JSON, e.g. for the revision of the state before the current one", "bucketops history s3://my-bucket/prod --json | jq -r '.[-2].revision'"],
            ),
        )
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .option("--json", "machine-readable output")
        .action(async (url: string, flags: ConnectionFlags & { ignore?: string[]; json?: boolean }) => {
            const states = await loadHistory(await stores.open(url, flags), specIgnore(flags), io.err); // notes off stdout: --json
            for (const line of historyReport(states, flags.json ?? false)) log(line);
        });

    withPublish(withLease(withIgnore(withConnection(program.command("rollback")))))
        .description("restore the prefix to a past state (itself undoable)")
        .addHelpText(
            "after",
            examples(
                ["Go back to the state Flux reported as sha256:3f2a9c1…", "bucketops rollback s3://my-bucket/prod --to 3f2a9c1"],
                ["Go back to the state current at a time, showing the plan only", "bucketops rollback s3://my-bucket/prod --to 2026-11-24T09:00:00Z --dry-run"],
            ),
        )
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .requiredOption("--to <time|revision>", "an ISO 8601 time or a revision (sha256:<hex>, or a unique hex prefix)")
        .option("--dry-run", "print the plan only")
        .option("--allow-empty", "allow a target with no object under the prefix: every object there is deleted")
        .option("--allow-incomplete", "allow a target that a push or rollback left half-written (history marks it)")
        .option("-m, --message <text>", "why, for the release record that history shows (default: which state it restores)")
        .addOption(new Option("--concurrency <n>", "parallel copies").argParser(positiveInt).default(16))
        .action(async (url: string, flags: ConnectionFlags & LeaseFlags & RollbackFlags & ClusterFlags & WaitFlags) => {
            const store = await stores.open(url, flags);
            const publication = flags.dryRun ? undefined : await openPublication(flags, store, "rollback", log);
            await rollback(store, flags.to, {
                ...rollbackDefaults(flags),
                dryRun: flags.dryRun ?? false,
                allowEmpty: flags.allowEmpty ?? false,
                allowIncomplete: flags.allowIncomplete ?? false,
                publication,
                message: flags.message,
                log,
            });
            if (publication) await awaitApply(publication, store, flags, log);
        });

    withIgnore(withConnection(program.command("diff")))
        .description("what a push would change (a unified diff per key), or what changed between two states of the history; exit 1 when they differ")
        .addHelpText(
            "after",
            examples(
                ["Review a push, e.g. in a pull request's CI", "bucketops diff ./deploy s3://my-bucket/prod"],
                ["What Flux would apply differently: the kustomize builds of both sides", "bucketops diff ./deploy s3://my-bucket/prod --rendered"],
                ["What the last push changed", "bucketops diff s3://my-bucket/prod --from $(bucketops history s3://my-bucket/prod --json | jq -r '.[-2].revision') --to $(bucketops revision s3://my-bucket/prod)"],
            ),
        )
        .argument("<dir|url>", "the manifest tree to compare with the bucket, or the bucket URL with --from and --to")
        .argument("[url]", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>] (with a tree)")
        .option("--from <time|revision>", "with a URL alone: the older state (an ISO 8601 time or a revision)")
        .option("--to <time|revision>", "with a URL alone: the newer state")
        .option("--rendered", "diff the kustomize builds of each entry-point kustomization (what Flux would apply) instead of the files")
        .action(async (first: string, second: string | undefined, flags: ConnectionFlags & { from?: string; to?: string; rendered?: boolean; ignore?: string[] }) => {
            // Like flux diff: 0 equal, 1 different, 2 error (whatever the error).
            try {
                const options = { rendered: flags.rendered ?? false, color: io.color ?? false, log };
                let differs: boolean;
                if (second !== undefined) {
                    if (flags.from || flags.to) throw new UsageError("--from and --to compare two states of a bucket URL: pass the URL alone");
                    differs = await diffTree(first, await stores.open(second, flags), options);
                } else {
                    if (!flags.from || !flags.to) throw new UsageError("diff takes <dir> <url>, or <url> --from <time|revision> --to <time|revision>");
                    differs = await diffStates(await stores.open(first, flags), flags.from, flags.to, specIgnore(flags), options);
                }
                io.exitCode = differs ? 1 : 0;
            } catch (error) {
                if (error instanceof UserError) throw new UsageError(error.message);
                throw new UsageError(`unexpected error: ${(error as Error).message}`);
            }
        });

    withCluster(withConnection(program.command("resume")))
        .description("resume a Flux Bucket that a push or rollback suspended and did not resume (it was stopped), once the prefix is whole")
        .addHelpText(
            "after",
            examples(
                ["After a push was killed between its last write and the resume", "bucketops resume --from-stack-outputs infra.json --from-stack-outputs flux.json"],
                ["Let Flux fetch the prefix as it is, even with a push's lease left there", "bucketops resume --kubeconfig ~/.kube/prod --force"],
            ),
        )
        .option("--force", "resume even though a lease says the prefix is being written or was left half-written")
        .action(async (flags: ClusterFlags & { force?: boolean }) => {
            const cluster = await openCluster(flags);
            log(await repairSuspension(cluster, flags, (url, connection) => stores.open(url, connection), flags.force ?? false));
        });

    withCluster(withConnection(program.command("status")))
        .description("has the cluster caught up with the bucket? reads the Flux Bucket and its Kustomizations")
        .addHelpText(
            "after",
            examples(
                ["After a push: ask Flux to fetch now, and wait up to 5 minutes for every Kustomization to apply it", "bucketops status --reconcile --wait 300"],
                ["With the stacks' outputs (kubeconfig, credentials, namespace and Bucket name)", "bucketops status --from-stack-outputs infra.json --from-stack-outputs flux.json"],
            ),
        )
        .option("--reconcile", "request a reconciliation as `flux reconcile source bucket` does")
        .addOption(new Option("--wait <seconds>", "poll until the cluster has caught up, at most this long").argParser(seconds))
        .addOption(new Option("--interval <seconds>", "polling interval for --wait").argParser(seconds).default(2))
        .action(async (flags: ConnectionFlags & StatusFlags) => {
            const caughtUp = await status(
                { ...flags, waitSeconds: flags.wait, intervalSeconds: flags.interval, log },
                (url, connection) => stores.open(url, connection),
            );
            if (!caughtUp) io.exitCode = 3;
        });

    return program;
}

interface PushFlags {
    rollbackOnFailure?: boolean;
    message?: string;
    prune?: boolean;
    dryRun?: boolean;
    allowUnversioned?: boolean;
    skipBuild?: boolean;
    revalidate?: boolean;
    rootPath?: string;
    strict?: boolean;
    schemaLocation?: string[];
    allowRemoteBases?: boolean;
    concurrency: number;
    ignore?: string[];
}

function rollbackDefaults(flags: LeaseFlags & { concurrency: number; ignore?: string[] }) {
    return { dryRun: false, allowEmpty: false, allowIncomplete: false, lease: leaseOptions(flags), concurrency: flags.concurrency, specIgnore: specIgnore(flags) };
}

interface RollbackFlags {
    message?: string;
    ignore?: string[];
    to: string;
    dryRun?: boolean;
    allowEmpty?: boolean;
    allowIncomplete?: boolean;
    concurrency: number;
}

interface StatusFlags {
    kubeconfig?: string;
    context?: string;
    namespace?: string;
    name?: string;
    reconcile?: boolean;
    wait?: number;
    interval: number;
}

/** Runs one command line (argv without node and script) and returns the exit code. */
export async function main(args: string[], io: Omit<Io, "exitCode"> = { out: console.log, err: console.error, color: process.stdout.isTTY && !process.env.NO_COLOR }): Promise<number> {
    const run: Io = { ...io, exitCode: 0 };
    const stores = new Stores();
    const program = buildProgram(run, stores);
    try {
        await program.parseAsync(args, { from: "user" });
        return run.exitCode;
    } catch (error) {
        const exitCode = (error as { exitCode?: number }).exitCode;
        const code = (error as { code?: string }).code;
        if (code?.startsWith("commander.")) return exitCode === 0 ? 0 : 2; // commander printed the message
        const known = localFailure(error) ?? (error instanceof UserError ? error : undefined);
        if (known) {
            io.err(`bucketops: ${known.message}`);
            return known.exitCode;
        }
        io.err(`bucketops: unexpected error: ${(error as Error).stack ?? String(error)}`);
        return 1;
    } finally {
        stores.closeAll();
    }
}

/** Problems with the local machine rather than the command: a bad file in the tree (exit 2), no file descriptors left. */
function localFailure(error: unknown): CliError | undefined {
    if (error instanceof TreeEntryError) return new UsageError(`${error.message}; nothing was uploaded`);
    return tooManyOpenFiles(error);
}
