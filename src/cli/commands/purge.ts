import { Command } from "commander";
import {
    commandLine,
    connectionOptions,
    examples,
    ignoreOption,
    leaseOptions,
    leaseSettings,
    specIgnore,
    type ConnectionFlags,
    type IgnoreFlags,
    type LeaseFlags,
} from "../flags.ts";
import type { CommandContext } from "./context.ts";

interface PurgeFlags extends ConnectionFlags, LeaseFlags, IgnoreFlags {
    yes?: boolean;
    message?: string;
}

export function purgeCommand({ io, stores, args }: CommandContext): Command {
    const command = new Command("purge")
        .description("delete every version of leaked keys for good (a secret pushed by mistake), then rotate what leaked")
        .addHelpText(
            "after",
            examples(
                ["A decrypted secret was pushed to prod: delete every version of it, asked to confirm", "bucketops purge s3://my-bucket/prod apps/prod/db.dec.yaml"],
                ["In a script", "bucketops purge gs://my-bucket/prod secret.env --yes -m 'leaked in CI run 1234'"],
            ),
        );
    return leaseOptions(ignoreOption(connectionOptions(command)))
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .argument("<key...>", "keys relative to the URL's prefix, as the tree's paths (or whole keys under it)")
        .option("-y, --yes", "do not ask for confirmation (needed without a terminal)")
        .option("-m, --message <text>", "why, for the record that history shows")
        .action(async (url: string, keys: string[], flags: PurgeFlags) => {
            const { purge } = await import("../purge.ts");
            await purge(await stores.open(url, flags), keys, {
                yes: flags.yes ?? false,
                ask: io.ask,
                lease: leaseSettings(flags, commandLine(args)),
                specIgnore: specIgnore(flags),
                message: flags.message,
                log: io.out,
            });
        });
}
