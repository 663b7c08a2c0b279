import { Command, Option } from "commander";
import type { Stores } from "../connection.ts";
import {
    connectionOptions,
    DEFAULTS,
    commandLine,
    examples,
    ignoreOption,
    leaseOptions,
    leaseSettings,
    positiveInt,
    publishOptions,
    specIgnore,
    type IgnoreFlags,
    type LeaseFlags,
    type PublishFlags,
    type ValidationFlags,
    validationChecks,
    validationOptions,
} from "../flags.ts";
import { clusterAccessOf, stackOutputsOf } from "../connection.ts";
import { parseBucketUrl } from "../url.ts";
import type { PushResult } from "../push.ts";
import type { CommandContext } from "./context.ts";

export interface PushFlags extends PublishFlags, LeaseFlags, IgnoreFlags, ValidationFlags {
    rollbackOnFailure?: boolean;
    message?: string;
    prune?: boolean;
    dryRun?: boolean;
    allowUnversioned?: boolean;
    revalidate?: boolean;
    includeIgnored?: boolean;
    concurrency: number;
}

/** The flags of a plain `bucketops push <dir> <url>`: what `npm run up` pushes with (src/lifecycle/delivery.ts). */
export const PUSH_DEFAULTS = {
    concurrency: DEFAULTS.concurrency,
    waitLock: DEFAULTS.waitLock,
    conditionalWrites: true,
    wait: true,
    waitTimeout: DEFAULTS.waitTimeout,
    connectTimeout: DEFAULTS.connectTimeout,
    timeout: DEFAULTS.timeout,
} satisfies Partial<PushFlags>;

/**
 * `bucketops push`'s whole action: validate, publish (atomically with cluster access), wait for the cluster to apply
 * it, and with --rollback-on-failure restore the state before under the same lease when Flux reports a failure.
 */
export interface PushOutput {
    log: (line: string) => void;
    /** Warnings and what-to-do-next hints (stderr); default: log. */
    warn?: (line: string) => void;
    /** The command line, for the message that gives the command to re-run. */
    rerun?: string;
}

export async function runPush(dir: string, url: string, flags: PushFlags, stores: Stores, { log, warn = log, rerun }: PushOutput): Promise<PushResult> {
    // The tree is read first: Git's processes and the file reads run while the rest loads.
    const { readTree } = await import("../tree.ts");
    const reading = readTree(dir, { includeIgnored: flags.includeIgnored ?? false });
    reading.catch(() => undefined); // awaited by push, after the store opened (whose errors come first)
    // What a push runs is loaded only for a push: `bucketops --help` and the other commands do not load it; the
    // cluster's side only with a kubeconfig to publish through. The store (and its SDK) loads beside them.
    const outputs = stackOutputsOf(flags);
    const atomic = !flags.dryRun && clusterAccessOf(flags, outputs).any;
    const [publishing, { push }, { ValidationCache }, store] = await Promise.all([
        atomic ? import("../publish.ts") : undefined,
        import("../push.ts"),
        import("../validationCache.ts"),
        stores.open(url, flags),
    ]);
    const publication = await publishing?.openPublication(flags, store, "push", log, warn);
    // The wait for the apply and --rollback-on-failure (and the rollback they may load) only for an atomic publish.
    const applying = publication ? import("../applyOrRollBack.ts") : undefined;
    applying?.catch(() => undefined);
    return push(dir, store, {
        message: flags.message,
        prune: flags.prune ?? true,
        dryRun: flags.dryRun ?? false,
        allowUnversioned: flags.allowUnversioned ?? false,
        skipBuild: flags.skipBuild ?? false,
        includeIgnored: flags.includeIgnored ?? false,
        reading,
        allowPlainSecrets: flags.allowPlainSecrets ?? false,
        validation: validationChecks(flags, outputs, parseBucketUrl(url).prefix),
        validationCache: flags.revalidate ? undefined : new ValidationCache(),
        concurrency: flags.concurrency,
        lease: leaseSettings(flags, rerun, warn),
        specIgnore: specIgnore(flags),
        publication,
        afterResume: applying && (async (lease, before) => (await applying).applyOrRollBack(store, publication, { what: "push", where: "the prefix", flags, lease, before, log, warn })),
        log,
    });
}

export function pushCommand({ io, stores, args }: CommandContext): Command {
    const command = new Command("push")
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
        );
    return validationOptions(publishOptions(leaseOptions(ignoreOption(connectionOptions(command)))))
        .argument("<dir>", "root of the manifest tree")
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .option("--prune", "delete objects no longer in the tree, once every upload succeeded (the default)")
        .option("--no-prune", "keep objects that are no longer in the tree")
        .option("--dry-run", "print the plan only")
        .option("--allow-unversioned", "push to a bucket without versioning: deletes and overwrites are then permanent")
        .option("--revalidate", "validate even a tree whose exact content passed validation before on this machine")
        .option("--include-ignored", "in a Git work tree, ship the files Git ignores too (by default only what Git would commit is shipped)")
        .addOption(new Option("--concurrency <n>", "parallel uploads").argParser(positiveInt).default(DEFAULTS.concurrency))
        .option("--rollback-on-failure", "when the cluster fails to apply the push, restore the prefix's previous state (atomically) and wait for that")
        .option("-m, --message <text>", "why, for the release record that history shows (default: the tree's last commit subject)")
        .action(async (dir: string, url: string, flags: PushFlags) => {
            await runPush(dir, url, flags, stores, { log: io.out, warn: io.err, rerun: commandLine(args) });
        });
}
