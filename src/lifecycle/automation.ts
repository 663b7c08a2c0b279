// The package has no exports map, so ESM needs the file itself.
import { type EngineEvent, LocalWorkspace, type OutputMap, Stack } from "@pulumi/pulumi/automation/index.js";
import type { ChangeSummary, Outputs, StackRunner } from "./lifecycle.ts";

/** Where Pulumi's own output goes while a command runs: its stdout, and its stderr (warnings, errors). */
export interface PulumiStreams {
    onOutput(out: string): void;
    onError(err: string): void;
}

/**
 * StackRunner on Pulumi's Automation API (@pulumi/pulumi 3.270's automation/*.js): a LocalWorkspace over this project
 * directory, so the stacks run exactly as `pulumi up --stack <name>` would run them there (Pulumi.yaml,
 * Pulumi.<stack>.yaml, the same backend and secrets provider). Pulumi's stdout and stderr are streamed as they come.
 *
 * Every Stack command passes `--stack <name>` itself (stack.js runPulumiCmd), so the stacks are never selected:
 * LocalWorkspace.selectStack runs `pulumi stack select`, which writes the user's current stack
 * (pulumi/pulumi pkg/cmd/pulumi/stack/stack_select.go: state.SetCurrentStack). Here it only checks that the stack exists.
 *
 * A failed command's message is the CLI's reason, not the Automation API's: its CommandError wraps execa's error,
 * whose message is "Command failed with exit code N: pulumi …" followed by stderr and the whole stdout (execa 5
 * lib/error.js), and the CommandError repeats it (automation/cmd.js exec, errors.js).
 */
export class AutomationRunner implements StackRunner {
    private readonly workDir: string;
    private readonly streams: PulumiStreams;
    private workspace?: Promise<LocalWorkspace>;
    private stacks?: Promise<Set<string>>;

    constructor(workDir: string, streams: PulumiStreams) {
        this.workDir = workDir;
        this.streams = streams;
    }

    async problems(stacks: string[]): Promise<string[]> {
        let workspace: LocalWorkspace;
        try {
            workspace = await this.open();
        } catch (error) {
            const why = isMissingCli(error) ? "the Pulumi CLI is not on PATH" : `the Pulumi CLI could not be run: ${pulumiFailure(error)}`;
            return [`${why}: install it from https://www.pulumi.com/docs/install/`];
        }
        let backend: string;
        try {
            backend = (await workspace.whoAmI()).url ?? "the backend";
        } catch (error) {
            return [`not logged in to a Pulumi backend: ${pulumiFailure(error)}; run pulumi login`];
        }
        let existing: Set<string>;
        try {
            existing = await this.stackNames();
        } catch (error) {
            return [`the stacks of ${backend} could not be listed: ${pulumiFailure(error)}`];
        }
        return stacks
            .filter((stack) => !existing.has(stack))
            .map((stack) => `stack ${stack} does not exist in ${backend}: create it with pulumi stack init ${stack} (its config is Pulumi.${stack}.yaml)`);
    }

    async outputs(stack: string): Promise<Outputs | undefined> {
        const outputs = await this.command(async () => (await this.open()).stackOutputs(stack));
        return Object.keys(outputs).length === 0 ? undefined : plain(outputs);
    }

    async preview(stack: string): Promise<ChangeSummary> {
        return this.command(async (onEvent) => (await (await this.select(stack)).preview({ ...this.options(onEvent) })).changeSummary);
    }

    async previewDestroy(stack: string): Promise<ChangeSummary> {
        return this.command(async (onEvent) => (await (await this.select(stack)).previewDestroy({ ...this.options(onEvent) })).changeSummary);
    }

    async up(stack: string): Promise<Outputs> {
        return this.command(async (onEvent) => plain((await (await this.select(stack)).up({ ...this.options(onEvent) })).outputs));
    }

    async destroy(stack: string): Promise<void> {
        await this.command(async (onEvent) => (await this.select(stack)).destroy({ ...this.options(onEvent) }));
    }

    private options(onEvent: (event: EngineEvent) => void) {
        return { onOutput: this.streams.onOutput, onError: this.streams.onError, onEvent, color: "auto" as const };
    }

    /** Runs a command; a failure becomes an Error whose message is the CLI's reason (its errors, or the engine's error diagnostics). */
    private async command<T>(run: (onEvent: (event: EngineEvent) => void) => Promise<T>): Promise<T> {
        const diagnostics: string[] = [];
        const onEvent = (event: EngineEvent) => {
            const diagnostic = event.diagnosticEvent;
            if (diagnostic?.severity === "error") diagnostics.push(plainText(diagnostic.message));
        };
        try {
            return await run(onEvent);
        } catch (error) {
            throw new Error(pulumiFailure(error, diagnostics));
        }
    }

    private open(): Promise<LocalWorkspace> {
        this.workspace ??= LocalWorkspace.create({ workDir: this.workDir }).then((workspace) => {
            // Stack.select asks the workspace to select the stack; only check that it exists (see the class comment).
            workspace.selectStack = async (stack: string) => {
                if (!(await this.stackNames()).has(stack)) throw new Error(`no stack named '${stack}' found`);
            };
            return workspace;
        });
        this.workspace.catch(() => (this.workspace = undefined));
        return this.workspace;
    }

    private stackNames(): Promise<Set<string>> {
        this.stacks ??= this.open().then(async (workspace) => new Set((await workspace.listStacks()).map(({ name }) => name.split("/").at(-1)!)));
        this.stacks.catch(() => (this.stacks = undefined));
        return this.stacks;
    }

    private async select(stack: string): Promise<Stack> {
        return Stack.select(stack, await this.open());
    }
}

/** Output values as `pulumi stack output --json --show-secrets` prints them (the Automation API reads them so). */
function plain(outputs: OutputMap): Outputs {
    return Object.fromEntries(Object.entries(outputs).map(([name, { value }]) => [name, value]));
}

/** What the Automation API's CommandError carries: execa's error, with the CLI's own stderr and exit code. */
interface CommandFailure {
    commandResult?: { code?: number; stderr?: string; err?: { code?: string; exitCode?: number; stderr?: string; shortMessage?: string } };
}

function isMissingCli(error: unknown): boolean {
    return (error as CommandFailure)?.commandResult?.err?.code === "ENOENT";
}

/** ANSI escapes and the engine's color tags (`<{%fg 1%}>`). */
const plainText = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "").replace(/<\{%[^%]*%\}>/g, "").trim();

/**
 * The CLI's reason for a failure: its stderr's error lines ("error: …" without the prefix), else the engine's error
 * diagnostics (a failed update or destroy reports them on stdout, where the user has just seen them), else the rest of
 * its stderr, with its exit code.
 */
export function pulumiFailure(error: unknown, diagnostics: string[] = []): string {
    const result = (error as CommandFailure)?.commandResult;
    if (result === undefined) return plainText(String((error as Error)?.message ?? error));
    const execa = result.err;
    if (execa?.code === "ENOENT") return "the Pulumi CLI is not on PATH";
    const lines = plainText(execa?.stderr ?? result.stderr ?? "")
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean);
    const errors = lines.filter((line) => line.startsWith("error: ")).map((line) => line.slice("error: ".length));
    // Its error lines; else the engine's error diagnostics; else whatever it said (warnings alone do not explain a failure).
    const reasons = [...new Set(errors.length > 0 ? errors : diagnostics.length > 0 ? diagnostics : lines)];
    const code = execa?.exitCode ?? (result.code !== undefined && result.code >= 0 ? result.code : undefined);
    const exit = code === undefined ? (execa?.shortMessage?.split("\n")[0] ?? "it failed") : `exit code ${code}`;
    return `${reasons.join("; ") || "no reason given"} (pulumi: ${exit})`;
}
