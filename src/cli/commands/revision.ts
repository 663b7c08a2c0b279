import { Command } from "commander";
import { connectionOptions, examples, ignoreOption, specIgnore, type ConnectionFlags, type IgnoreFlags } from "../flags.ts";
import { parseBucketUrl } from "../url.ts";
import type { CommandContext } from "./context.ts";

export function revisionCommand({ io, stores }: CommandContext): Command {
    const command = new Command("revision")
        .description("print the revision Flux's source-controller reports for this bucket and prefix")
        .addHelpText(
            "after",
            examples(
                ["The revision a Bucket with spec.prefix prod/ reports", "bucketops revision s3://my-bucket/prod/"],
                ["With the Bucket's spec.ignore", "bucketops revision gs://my-bucket --ignore '*.md' --ignore 'docs/'"],
            ),
        );
    return ignoreOption(connectionOptions(command))
        .argument("<url>", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]; the prefix is used verbatim, as spec.prefix")
        .action(async (url: string, flags: ConnectionFlags & IgnoreFlags) => {
            const { currentRevision } = await import("../revision.ts");
            const { revision } = await currentRevision(await stores.open(url, flags), parseBucketUrl(url).prefix, specIgnore(flags));
            io.out(revision);
        });
}
