import { Command, Option } from "commander";
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
} from "../flags.ts";
import type { CommandContext } from "./context.ts";

interface RollbackFlags extends PublishFlags, LeaseFlags, IgnoreFlags {
    message?: string;
    to: string;
    dryRun?: boolean;
    allowEmpty?: boolean;
    allowIncomplete?: boolean;
    concurrency: number;
}

export function rollbackCommand({ io, stores, args }: CommandContext): Command {
    const command = new Command("rollback")
        .description("restore the prefix to a past release exactly (itself a new release, undoable)")
        .addHelpText(
            "after",
            examples(
                ["Go back to release 12 (numbers as 'bucketops history' lists them)", "bucketops rollback s3://my-bucket/prod --to 12"],
                ["Go back to the state Flux reported as sha256:3f2a9c1…", "bucketops rollback s3://my-bucket/prod --to 3f2a9c1"],
                ["Go back to the state current at a time, showing the plan only", "bucketops rollback s3://my-bucket/prod --to 2026-11-24T09:00:00Z --dry-run"],
            ),
        );
    return publishOptions(leaseOptions(ignoreOption(connectionOptions(command))))
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .requiredOption("--to <release|revision|time>", "a release number (12 or #12) or id, a revision (sha256:<hex>, or a unique hex prefix of 7+ digits) naming one content, or an ISO 8601 time")
        .option("--dry-run", "print the plan only")
        .option("--allow-empty", "allow a target in which Flux would see nothing (the revision of nothing): every object it reads there is deleted")
        .option("--allow-incomplete", "allow a target that a push or rollback left half-written (history marks it)")
        .option("-m, --message <text>", "why, for the release record that history shows (default: which state it restores)")
        .addOption(new Option("--concurrency <n>", "parallel copies").argParser(positiveInt).default(DEFAULTS.concurrency))
        .action(async (url: string, flags: RollbackFlags) => {
            const [{ awaitApply, openPublication }, { rollback }] = await Promise.all([import("../publish.ts"), import("../rollback.ts")]);
            const log = io.out;
            const store = await stores.open(url, flags);
            const publication = flags.dryRun ? undefined : await openPublication(flags, store, "rollback", log, io.err);
            await rollback(store, flags.to, {
                dryRun: flags.dryRun ?? false,
                allowEmpty: flags.allowEmpty ?? false,
                allowIncomplete: flags.allowIncomplete ?? false,
                lease: leaseSettings(flags, commandLine(args), io.err),
                concurrency: flags.concurrency,
                specIgnore: specIgnore(flags),
                publication,
                message: flags.message,
                afterResume: async () => {
                    if (publication) await awaitApply(publication, store, flags, log);
                },
                log,
            });
        });
}
