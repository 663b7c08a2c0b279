import { Command } from "commander";
import { connectionOptions, examples, ignoreOption, specIgnore, type ConnectionFlags, type IgnoreFlags } from "../flags.ts";
import type { CommandContext } from "./context.ts";

export function historyCommand({ io, stores }: CommandContext): Command {
    const command = new Command("history")
        .description("past states of the prefix, reconstructed from object versions")
        .addHelpText(
            "after",
            examples(
                ["Every state of the prefix, with the keys each one changed", "bucketops history s3://my-bucket/prod"],
                ["As JSON, e.g. for the revision of the state before the current one", "bucketops history s3://my-bucket/prod --json | jq -r '.[-2].revision'"],
            ),
        );
    return ignoreOption(connectionOptions(command))
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .option("--json", "machine-readable output")
        .action(async (url: string, flags: ConnectionFlags & IgnoreFlags & { json?: boolean }) => {
            const { historyReport, loadHistory } = await import("../history.ts");
            const states = await loadHistory(await stores.open(url, flags), specIgnore(flags), io.err); // notes off stdout: --json
            for (const line of historyReport(states, flags.json ?? false)) io.out(line);
        });
}
