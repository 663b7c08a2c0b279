import { Command, Option } from "commander";
import { stackOutputsOf } from "../connection.ts";
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
    validationChecks,
    validationOptions,
    type IgnoreFlags,
    type LeaseFlags,
    type PublishFlags,
    type ValidationFlags,
} from "../flags.ts";
import { parseBucketUrl } from "../url.ts";
import type { CommandContext } from "./context.ts";

interface PromoteFlags extends PublishFlags, LeaseFlags, IgnoreFlags, ValidationFlags {
    release?: string;
    message?: string;
    dryRun?: boolean;
    allowEmpty?: boolean;
    rollbackOnFailure?: boolean;
    concurrency: number;
}

export function promoteCommand({ io, stores, args }: CommandContext): Command {
    const command = new Command("promote")
        .description("copy one environment's release to another prefix of the bucket exactly (server-side copies of its versions), as a new release there")
        .addHelpText(
            "after",
            examples(
                ["Promote staging's current release to production, with the production stacks' outputs", "bucketops promote s3://my-bucket/staging s3://my-bucket/prod --from-stack-outputs infra.json --from-stack-outputs prod-flux.json"],
                ["Promote release 12 of staging (numbers as 'bucketops history' lists them), showing the plan only", "bucketops promote s3://my-bucket/staging s3://my-bucket/prod --release 12 --dry-run"],
                ["What production would get", "bucketops diff s3://my-bucket/staging s3://my-bucket/prod"],
            ),
        );
    return validationOptions(publishOptions(leaseOptions(ignoreOption(connectionOptions(command)))))
        .argument("<from-url>", "the environment promoted from: s3://<bucket>/<prefix> or gs://<bucket>/<prefix>")
        .argument("<to-url>", "the environment promoted to, in the same bucket")
        .option("--release <release|revision|time>", "the release of <from-url> to promote: a number (12 or #12) or id, a revision, or a time (default: its current release)")
        .option("--dry-run", "validate and print the plan only")
        .option("--allow-empty", "allow a release in which Flux would see nothing: every object it reads under <to-url> is deleted")
        .option("-m, --message <text>", "why, for the release record (default: which release of which prefix)")
        .option("--rollback-on-failure", "when the cluster fails to apply the promotion, restore <to-url>'s previous release (atomically) and wait for that")
        .addOption(new Option("--concurrency <n>", "parallel copies").argParser(positiveInt).default(DEFAULTS.concurrency))
        .action(async (fromUrl: string, toUrl: string, flags: PromoteFlags) => {
            const [{ openPublication }, { promote }, { applyOrRollBack }] = await Promise.all([import("../publish.ts"), import("../promote.ts"), import("../applyOrRollBack.ts")]);
            const log = io.out;
            // Both with the target environment's credentials: its writers are the ones granted read of the source.
            const [from, to] = await Promise.all([stores.open(fromUrl, flags, toUrl), stores.open(toUrl, flags)]);
            // The cluster is the target's: the flux stack outputs (or flags) of the environment promoted to.
            const publication = flags.dryRun ? undefined : await openPublication(flags, to, "promote", log, io.err);
            const lease = leaseSettings(flags, commandLine(args), io.err);
            await promote(from, to, {
                release: flags.release,
                dryRun: flags.dryRun ?? false,
                allowEmpty: flags.allowEmpty ?? false,
                build: !flags.skipBuild,
                checks: validationChecks(flags, stackOutputsOf(flags), parseBucketUrl(toUrl).prefix),
                allowPlainSecrets: flags.allowPlainSecrets,
                lease,
                concurrency: flags.concurrency,
                specIgnore: specIgnore(flags),
                publication,
                message: flags.message,
                afterResume: (held, before) => applyOrRollBack(to, publication, { what: "promotion", where: toUrl, flags, lease: held, before, log, warn: io.err }),
                log,
            });
        });
}
