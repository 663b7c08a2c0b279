// The package has no exports map, so ESM needs the file itself.
import { LocalWorkspace, type OutputMap, type Stack } from "@pulumi/pulumi/automation/index.js";
import type { ChangeSummary, Outputs, StackRunner } from "./lifecycle.ts";

/**
 * StackRunner on Pulumi's Automation API: a LocalWorkspace over this project directory, so the stacks run exactly as
 * `pulumi up --stack <name>` would run them there (Pulumi.yaml, Pulumi.<stack>.yaml, the same backend and secrets
 * provider). Pulumi's own output is streamed to `onOutput`. Not run here: no Pulumi CLI can run on this machine.
 */
export class AutomationRunner implements StackRunner {
    private readonly workDir: string;
    private readonly onOutput: (out: string) => void;

    constructor(workDir: string, onOutput: (out: string) => void) {
        this.workDir = workDir;
        this.onOutput = onOutput;
    }

    async problems(stacks: string[]): Promise<string[]> {
        let workspace: LocalWorkspace;
        try {
            workspace = await LocalWorkspace.create({ workDir: this.workDir });
        } catch (error) {
            const missing = (error as { commandResult?: { err?: { code?: string } } }).commandResult?.err?.code === "ENOENT";
            const why = missing ? "the Pulumi CLI is not on PATH" : `the Pulumi CLI could not be run (${pulumiError(error)})`;
            return [`${why}: install it from https://www.pulumi.com/docs/install/`];
        }
        let backend: string;
        try {
            const who = await workspace.whoAmI();
            backend = who.url ?? "the backend";
        } catch (error) {
            return [`not logged in to a Pulumi backend (${pulumiError(error)}): run pulumi login`];
        }
        const existing = new Set((await workspace.listStacks()).map(({ name }) => name.split("/").at(-1)));
        return stacks
            .filter((stack) => !existing.has(stack))
            .map((stack) => `stack ${stack} does not exist in ${backend}: create it with pulumi stack init ${stack} (its config is Pulumi.${stack}.yaml)`);
    }

    async outputs(stack: string): Promise<Outputs | undefined> {
        const outputs = await (await this.select(stack)).outputs();
        return Object.keys(outputs).length === 0 ? undefined : plain(outputs);
    }

    async preview(stack: string): Promise<ChangeSummary> {
        return (await (await this.select(stack)).preview({ onOutput: this.onOutput, color: "auto" })).changeSummary;
    }

    async previewDestroy(stack: string): Promise<ChangeSummary> {
        return (await (await this.select(stack)).previewDestroy({ onOutput: this.onOutput, color: "auto" })).changeSummary;
    }

    async up(stack: string): Promise<Outputs> {
        return plain((await (await this.select(stack)).up({ onOutput: this.onOutput, color: "auto" })).outputs);
    }

    async destroy(stack: string): Promise<void> {
        await (await this.select(stack)).destroy({ onOutput: this.onOutput, color: "auto" });
    }

    private select(stack: string): Promise<Stack> {
        return LocalWorkspace.selectStack({ stackName: stack, workDir: this.workDir });
    }
}

/** Output values as `pulumi stack output --json --show-secrets` prints them (the Automation API reads them so). */
function plain(outputs: OutputMap): Outputs {
    return Object.fromEntries(Object.entries(outputs).map(([name, { value }]) => [name, value]));
}

/** The Automation API's CommandError message is "code: …\n stdout: …\n stderr: …": the CLI's stderr says what went wrong. */
function pulumiError(error: unknown): string {
    const message = String((error as Error)?.message ?? error);
    const stderr = /stderr: (.+)/.exec(message)?.[1]?.trim();
    return stderr || message.split("\n")[0];
}
