import { Command } from "commander";
import { UserError } from "../errors.ts";
import { TreeEntryError } from "../fs/walk.ts";
import { diffCommand } from "./commands/diff.ts";
import type { CommandContext, Io } from "./commands/context.ts";
import { historyCommand } from "./commands/history.ts";
import { promoteCommand } from "./commands/promote.ts";
import { purgeCommand } from "./commands/purge.ts";
import { pushCommand } from "./commands/push.ts";
import { resumeCommand } from "./commands/resume.ts";
import { revisionCommand } from "./commands/revision.ts";
import { rollbackCommand } from "./commands/rollback.ts";
import { statusCommand } from "./commands/status.ts";
import { Stores } from "./connection.ts";
import { CliError, UsageError, tooManyOpenFiles } from "./errors.ts";
import { EXIT } from "./exitCodes.ts";
import { terminalQuestion } from "./terminal.ts";
import packageJson from "../../package.json" with { type: "json" };

export type { Io };

// The SDK's notice that releases after January 2027 need Node 22 is noise on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** The commands, in the order help lists them. */
const COMMANDS = [pushCommand, revisionCommand, historyCommand, rollbackCommand, promoteCommand, diffCommand, purgeCommand, resumeCommand, statusCommand];

/** The program: its own flags and output, and one command per module of ./commands. */
export function buildProgram(io: Io, stores: Stores, args: string[] = []): Command {
    const output = {
        writeOut: (text: string) => io.out(text.trimEnd()),
        writeErr: (text: string) => io.err(text.trimEnd()),
        outputError: (text: string) => io.err(`bucketops: ${text.replace(/^error: /, "").trimEnd()}`),
    };
    const program = new Command("bucketops")
        .description("GitOps from an object-storage bucket: validated push, Flux revisions, history, rollback, status")
        .version(packageJson.version, "-V, --version", "print bucketops' version")
        .exitOverride()
        .showHelpAfterError("(see 'bucketops <command> --help')")
        .configureOutput(output);
    const context: CommandContext = { io, stores, args };
    for (const define of COMMANDS) {
        program.addCommand(define(context).exitOverride().showHelpAfterError("(see 'bucketops <command> --help')").configureOutput(output));
    }
    return program;
}

/** Runs one command line (argv without node and script) and returns the exit code. */
export async function main(
    args: string[],
    io: Omit<Io, "exitCode"> = { out: console.log, err: console.error, color: process.stdout.isTTY && !process.env.NO_COLOR, ask: terminalQuestion() },
): Promise<number> {
    const run: Io = { ...io, exitCode: EXIT.ok };
    const stores = new Stores(io.err);
    const program = buildProgram(run, stores, args);
    try {
        await program.parseAsync(args, { from: "user" });
        return run.exitCode;
    } catch (error) {
        const exitCode = (error as { exitCode?: number }).exitCode;
        const code = (error as { code?: string }).code;
        if (code?.startsWith("commander.")) return exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed the message
        const known = localFailure(error) ?? (error instanceof UserError ? error : undefined);
        if (known) {
            io.err(`bucketops: ${known.message}`);
            return known.exitCode;
        }
        io.err(`bucketops: unexpected error: ${(error as Error).stack ?? String(error)}`);
        return EXIT.failed;
    } finally {
        stores.closeAll();
    }
}

/** Problems with the local machine rather than the command: a bad file in the tree (exit 2), no file descriptors left. */
function localFailure(error: unknown): CliError | undefined {
    if (error instanceof TreeEntryError) return new UsageError(`${error.message}; nothing was uploaded`);
    return tooManyOpenFiles(error);
}
