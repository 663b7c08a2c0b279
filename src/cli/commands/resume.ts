import { Command } from "commander";
import { clusterOptions, connectionOptions, examples, type ClusterFlags } from "../flags.ts";
import type { CommandContext } from "./context.ts";

export function resumeCommand({ io, stores }: CommandContext): Command {
    const command = new Command("resume")
        .description("resume a Flux Bucket that a push or rollback suspended and did not resume (it was stopped), once the prefix is whole")
        .addHelpText(
            "after",
            examples(
                ["After a push was killed between its last write and the resume", "bucketops resume --from-stack-outputs infra.json --from-stack-outputs flux.json"],
                ["Let Flux fetch the prefix as it is, even with a push's lease left there", "bucketops resume --kubeconfig ~/.kube/prod --force"],
            ),
        );
    return clusterOptions(connectionOptions(command), false)
        .option("--force", "resume even though a lease says the prefix is being written or was left half-written")
        .action(async (flags: ClusterFlags & { force?: boolean }) => {
            const [{ openCluster }, { repairSuspension }] = await Promise.all([import("../cluster.ts"), import("../publish.ts")]);
            const cluster = await openCluster(flags);
            io.out(await repairSuspension(cluster, flags, (url, connection) => stores.open(url, connection), flags.force ?? false));
        });
}
