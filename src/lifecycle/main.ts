import { Command, InvalidArgumentError, Option } from "commander";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { UserError } from "../errors.ts";
import { down, preview, up, UP_STEPS, type LifecycleIo, type UpStep } from "./lifecycle.ts";
import { stackSet } from "./stacks.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Asks on the terminal; without one (CI, a pipe) there is nobody to answer, so --yes is required. */
async function confirm(question: string): Promise<boolean> {
    if (!process.stdin.isTTY) throw new UserError(`${question} needs an answer, and stdin is not a terminal: pass --yes to proceed without asking`);
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    try {
        return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
    } finally {
        prompt.close();
    }
}

const io: LifecycleIo = { log: (line) => console.log(line), confirm };

/** The Automation API and bucketops are loaded only once the arguments are known to be good. */
async function runner() {
    const { AutomationRunner } = await import("./automation.ts");
    return new AutomationRunner(ROOT, { onOutput: (out) => process.stdout.write(out), onError: (err) => process.stderr.write(err) });
}

async function credentials(stacks: ReturnType<typeof stackSet>): Promise<string[]> {
    const { credentialProblems, sdkProbes } = await import("./preflight.ts");
    return credentialProblems(ROOT, stacks.infra, stacks.infraConfig, sdkProbes);
}

function step(value: string): UpStep {
    if (!(UP_STEPS as readonly string[]).includes(value)) throw new InvalidArgumentError(`allowed: ${UP_STEPS.join(", ")}`);
    return value as UpStep;
}

function seconds(value: string): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError("allowed: a whole number of seconds above 0");
    return parsed;
}

export function buildProgram(): Command {
    const program = new Command("lifecycle").description("both stacks and the first upload, in order, with Pulumi's Automation API").showHelpAfterError();
    const stackOption = () => new Option("-s, --stack <infra stack>", "the infra stack (Pulumi.<name>.yaml); its flux stacks follow it").makeOptionMandatory();

    program
        .command("up")
        .description("pulumi up the infra stack, then its flux stacks; push the tree with the infra stack's writer; wait for Flux")
        .addOption(stackOption())
        .option("--tree <dir>", "manifest tree to push to the prefix each flux stack reads (default: none)")
        .option("-y, --yes", "deploy without asking after each preview")
        .addOption(new Option("--from <step>", `resume at a step: ${UP_STEPS.join(", ")}`).argParser(step).default("infra"))
        .addOption(new Option("--wait <seconds>", "how long to wait for Flux to report the pushed revision").argParser(seconds).default(300))
        .action(async (flags: { stack: string; tree?: string; yes?: boolean; from: UpStep; wait: number }) => {
            const stacks = stackSet(ROOT, flags.stack);
            const { bucketopsDelivery } = await import("./delivery.ts");
            const pushes = flags.tree !== undefined && UP_STEPS.indexOf(flags.from) <= UP_STEPS.indexOf("push");
            const { treeProblems } = await import("./tree.ts");
            await up(
                {
                    stacks,
                    tree: flags.tree,
                    yes: flags.yes ?? false,
                    from: flags.from,
                    credentialProblems: await credentials(stacks),
                    treeProblems: pushes ? await treeProblems(flags.tree!, stacks.prefixes) : [],
                },
                await runner(),
                bucketopsDelivery(io.log, flags.wait),
                io,
            );
        });

    program
        .command("down")
        .description("pulumi destroy the flux stacks, then the infra stack")
        .addOption(stackOption())
        .option("-y, --yes", "destroy without asking after each preview")
        .action(async (flags: { stack: string; yes?: boolean }) => {
            const stacks = stackSet(ROOT, flags.stack);
            const { storage } = stacks.infraConfig;
            const forceDestroyInFile = "forceDestroy" in storage && storage.forceDestroy;
            await down({ stacks, yes: flags.yes ?? false, forceDestroyInFile, credentialProblems: await credentials(stacks) }, await runner(), io);
        });

    program
        .command("preview")
        .description("pulumi preview the infra stack, then its flux stacks (once the infra stack has outputs)")
        .addOption(stackOption())
        .action(async (flags: { stack: string }) => {
            await preview(stackSet(ROOT, flags.stack), await runner(), io);
        });
    return program;
}

buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
        const known = error instanceof UserError;
        console.error(`${process.argv[2] ?? "lifecycle"}: ${known ? (error as Error).message : ((error as Error)?.stack ?? error)}`);
        process.exit(known ? (error as UserError).exitCode : 1);
    });
