import { Command, Option } from "commander";
import { EXIT } from "../exitCodes.ts";
import { clusterOptions, connectionOptions, DEFAULTS, examples, seconds, type ClusterFlags } from "../flags.ts";
import type { CommandContext } from "./context.ts";

interface StatusFlags extends ClusterFlags {
    reconcile?: boolean;
    wait?: number;
    interval: number;
}

export function statusCommand({ io, stores }: CommandContext): Command {
    const command = new Command("status")
        .description("has the cluster caught up with the bucket? reads the Flux Bucket and its Kustomizations")
        .addHelpText(
            "after",
            examples(
                ["After a push: ask Flux to fetch now, and wait up to 5 minutes for every Kustomization to apply it", "bucketops status --reconcile --wait 300"],
                ["With the stacks' outputs (kubeconfig, credentials, namespace and Bucket name)", "bucketops status --from-stack-outputs infra.json --from-stack-outputs flux.json"],
            ),
        );
    return clusterOptions(connectionOptions(command), false)
        .option("--reconcile", "request a reconciliation as `flux reconcile source bucket` does")
        .addOption(new Option("--wait <seconds>", "poll until the cluster has caught up, at most this long").argParser(seconds))
        .addOption(new Option("--interval <seconds>", "polling interval for --wait").argParser(seconds).default(DEFAULTS.statusInterval))
        .action(async (flags: StatusFlags) => {
            // What status runs (the cluster client, readiness, publish's repair) is loaded only for status.
            const { status } = await import("../status.ts");
            const caughtUp = await status({ ...flags, waitSeconds: flags.wait, intervalSeconds: flags.interval, log: io.out }, (url, connection) => stores.open(url, connection));
            if (!caughtUp) io.exitCode = EXIT.behind;
        });
}
