import { Command } from "commander";
import { UserError } from "../../errors.ts";
import { URL_SCHEMES } from "../../bucket/providers.ts";
import { UsageError } from "../errors.ts";
import { EXIT } from "../exitCodes.ts";
import { connectionOptions, examples, ignoreOption, specIgnore, type ConnectionFlags, type IgnoreFlags } from "../flags.ts";
import type { CommandContext } from "./context.ts";

/** A bucket URL rather than a local folder. */
const isBucketUrl = (text: string) => URL_SCHEMES.some((scheme) => text.startsWith(`${scheme}://`));

interface DiffFlags extends ConnectionFlags, IgnoreFlags {
    from?: string;
    to?: string;
    rendered?: boolean;
    includeIgnored?: boolean;
}

export function diffCommand({ io, stores }: CommandContext): Command {
    const command = new Command("diff")
        .description("what a push would change (a unified diff per key), or what changed between two states of the history; exit 1 when they differ")
        .addHelpText(
            "after",
            examples(
                ["Review a push, e.g. in a pull request's CI", "bucketops diff ./deploy s3://my-bucket/prod"],
                ["What Flux would apply differently: the kustomize builds of both sides", "bucketops diff ./deploy s3://my-bucket/prod --rendered"],
                ["What the last push changed", "bucketops diff s3://my-bucket/prod --from $(bucketops history s3://my-bucket/prod --json | jq -r '.[-2].number') --to $(bucketops history s3://my-bucket/prod --json | jq -r '.[-1].number')"],
                ["What promoting staging's current release would change in prod", "bucketops diff s3://my-bucket/staging s3://my-bucket/prod"],
            ),
        );
    return ignoreOption(connectionOptions(command))
        .argument("<dir|url>", "the manifest tree to compare with the bucket; or a bucket URL, alone (with --from and --to) or with another environment's URL")
        .argument("[url]", "s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]")
        .option("--from <release|revision|time>", "with a URL alone: the older state; with two URLs: the first one's release (default: its current state)")
        .option("--to <release|revision|time>", "with a URL alone: the newer state; with two URLs: the second one's release (default: its current state)")
        .option("--include-ignored", "with a tree in a Git work tree: the files Git ignores too, as push --include-ignored ships them")
        .option("--rendered", "diff the kustomize builds of each entry-point kustomization (what Flux would apply) instead of the files")
        .action(async (first: string, second: string | undefined, flags: DiffFlags) => {
            // Like flux diff: 0 equal, 1 different, 2 error (whatever the error).
            try {
                const { diffEnvironments, diffStates, diffTree } = await import("../diff.ts"); // the diff library and the validator: only for a diff
                const options = { rendered: flags.rendered ?? false, color: io.color ?? false, includeIgnored: flags.includeIgnored ?? false, log: io.out };
                let differs: boolean;
                if (second !== undefined && isBucketUrl(first)) {
                    const [a, b] = await Promise.all([stores.open(first, flags), stores.open(second, flags)]);
                    differs = await diffEnvironments(a, b, flags.from, flags.to, specIgnore(flags), options);
                } else if (second !== undefined) {
                    if (flags.from || flags.to) throw new UsageError("--from and --to compare two states of a bucket URL: pass the URL alone");
                    differs = await diffTree(first, await stores.open(second, flags), options);
                } else {
                    if (!flags.from || !flags.to) throw new UsageError("diff takes <dir> <url>, <url> --from <release|revision|time> --to <release|revision|time>, or two environments' <url> <url>");
                    differs = await diffStates(await stores.open(first, flags), flags.from, flags.to, specIgnore(flags), options);
                }
                io.exitCode = differs ? EXIT.failed : EXIT.ok;
            } catch (error) {
                if (error instanceof UserError) throw new UsageError(error.message);
                throw new UsageError(`unexpected error: ${(error as Error).message}`);
            }
        });
}
