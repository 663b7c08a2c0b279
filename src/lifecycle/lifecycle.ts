import type { FluxOutputs, InfraOutputs } from "../bucket/outputs.ts";
import { PROVIDERS, type ProviderFacts } from "../bucket/providers.ts";
import { DeclinedError, LifecycleError } from "./errors.ts";
import type { StackSet } from "./stacks.ts";

/** What Pulumi reports a preview would do: operation (create, update, delete, same…) → count. */
export type ChangeSummary = Record<string, number | undefined>;

/** Stack outputs as `pulumi stack output --json --show-secrets` gives them, kept in memory. */
export type Outputs = Record<string, unknown>;

/**
 * Pulumi, as this module uses it: the Automation API over the project directory (automation.ts), or a stand-in.
 * Every call streams Pulumi's own output as it runs.
 */
export interface StackRunner {
    /** One clear problem per thing that stops Pulumi from running these stacks (no CLI, not logged in, no such stack). */
    problems(stacks: string[]): Promise<string[]>;
    /** The stack's outputs, secrets in the clear; undefined when it has none (never deployed, or destroyed). */
    outputs(stack: string): Promise<Outputs | undefined>;
    preview(stack: string): Promise<ChangeSummary>;
    previewDestroy(stack: string): Promise<ChangeSummary>;
    /** Deploys the stack and returns its outputs, secrets in the clear. */
    up(stack: string): Promise<Outputs>;
    destroy(stack: string): Promise<void>;
}

/** What `up` does once the stacks are deployed: bucketops' push and status, handed the outputs in memory. */
export interface Delivery {
    /** Pushes `tree` to the bucket and prefix a flux stack reads, with the infra stack's writer; returns the revision. */
    push(tree: string, infra: Outputs, flux: Outputs): Promise<string>;
    /**
     * Waits until that flux stack's Bucket and Kustomizations report the revision the bucket holds (the one just
     * pushed), having asked Flux to reconcile; false when they did not in time.
     */
    waitFor(infra: Outputs, flux: Outputs): Promise<boolean>;
}

export interface LifecycleIo {
    log(line: string): void;
    /** Asks a yes/no question; only called without --yes. */
    confirm(question: string): Promise<boolean>;
}

/** The steps of `up`, in order; `--from` resumes at one of them. */
export const UP_STEPS = ["infra", "flux", "push", "wait"] as const;
export type UpStep = (typeof UP_STEPS)[number];

export interface UpOptions {
    stacks: StackSet;
    /** The manifest tree to push; undefined: no push (and nothing to wait for). */
    tree?: string;
    yes: boolean;
    from: UpStep;
    /** Cloud credentials missing for these stacks, found before anything runs (preflight.ts). */
    credentialProblems: string[];
    /** What would stop the push of `tree`, found before anything runs (tree.ts). */
    treeProblems?: string[];
}

export interface DownOptions {
    stacks: StackSet;
    yes: boolean;
    /** flux-bucket:forceDestroy in the infra stack's file (what the next `pulumi up` would apply); the deployed value is in its outputs. */
    forceDestroyInFile: boolean;
    credentialProblems: string[];
}

/** The command that re-runs `up` from a step. */
const resumeCommand = (infra: string, step: UpStep, tree?: string) =>
    `npm run up -- --stack ${infra}${tree ? ` --tree ${tree}` : ""} --from ${step}`;

/**
 * `npm run up`: the infra stack, then each of its flux stacks, then the tree pushed to the prefix each flux stack
 * reads (with the infra stack's writer, from the outputs in memory), then a wait until each cluster reports the
 * revision. Each stack is previewed and confirmed before it is deployed, as `pulumi up` does, unless `yes`.
 * Stops at the first failure, saying what succeeded and the command that resumes.
 */
export async function up(options: UpOptions, runner: StackRunner, delivery: Delivery, io: LifecycleIo): Promise<void> {
    const { stacks } = options;
    await preflight([stacks.infra, ...stacks.flux], runner, [...options.credentialProblems, ...(options.treeProblems ?? [])]);
    const done: string[] = [];
    const from = UP_STEPS.indexOf(options.from);
    const step = async <T>(name: UpStep, what: string, action: () => Promise<T>): Promise<T> => {
        try {
            const result = await action();
            done.push(what);
            return result;
        } catch (error) {
            if (error instanceof DeclinedError) throw error;
            throw new LifecycleError(
                `${what} failed: ${(error as Error).message}\n` +
                    `${done.length ? `done: ${done.join("; ")}` : "nothing was done"}\n` +
                    `resume with: ${resumeCommand(stacks.infra, name, options.tree)}`,
            );
        }
    };

    const infra =
        from <= UP_STEPS.indexOf("infra")
            ? await step("infra", `pulumi up ${stacks.infra}`, () => deploy(stacks.infra, runner, options.yes, io))
            : await existingOutputs(stacks.infra, runner);
    const flux: Outputs[] = [];
    for (const stack of stacks.flux) {
        flux.push(
            from <= UP_STEPS.indexOf("flux")
                ? await step("flux", `pulumi up ${stack}`, () => deploy(stack, runner, options.yes, io))
                : await existingOutputs(stack, runner),
        );
    }
    if (stacks.flux.length === 0) io.log(`no flux stack reads ${stacks.infra} (Pulumi.<name>.yaml with flux-bucket:layer flux): nothing to push to`);
    if (options.tree === undefined || stacks.flux.length === 0) {
        if (options.tree === undefined) io.log("no --tree: nothing pushed");
        return;
    }

    if (from <= UP_STEPS.indexOf("push")) {
        for (const [i, stack] of stacks.flux.entries()) {
            const target = pushTarget(infra, flux[i]);
            const revision = await step("push", `push ${options.tree} to ${target} (${stack})`, () => delivery.push(options.tree!, infra, flux[i]));
            io.log(`${target}: ${revision}`);
        }
    }
    for (const [i, stack] of stacks.flux.entries()) {
        if (stacks.ownCluster.includes(stack)) {
            io.log(`${stack} installs Flux on a cluster of its own, whose kubeconfig is not in the outputs: check it with bucketops status --kubeconfig <its kubeconfig>`);
            continue;
        }
        await step("wait", `wait for ${stack}'s cluster`, async () => {
            if (!(await delivery.waitFor(infra, flux[i]))) throw new Error("Flux did not report the bucket's revision in time");
        });
    }
    io.log(`up: ${done.join("; ")}`);
}

/**
 * `npm run down`: the flux stacks first (their objects live on the cluster the infra stack may own), then the infra
 * stack. Refuses before anything changes when the deployed bucket cannot be deleted: its forceDestroy, as the infra
 * stack's outputs record what the last `pulumi up` applied (a value set in the stack file but not yet applied does
 * not count), is false, and a versioned bucket that was ever written keeps versions, so Pulumi would stop half-way
 * with the flux stacks gone.
 */
export async function down(options: DownOptions, runner: StackRunner, io: LifecycleIo): Promise<void> {
    const { stacks } = options;
    await preflight([stacks.infra, ...stacks.flux], runner, options.credentialProblems);
    const infraOutputs = (await runner.outputs(stacks.infra)) as Partial<InfraOutputs> | undefined;
    const provisioned = infraOutputs !== undefined && PROVIDERS[infraOutputs.provider ?? "generic"].provisioned;
    if (provisioned) {
        const bucket = String(infraOutputs.bucketName);
        const deployed = infraOutputs.forceDestroy === true;
        io.log(`forceDestroy is ${deployed} on ${stacks.infra}'s deployed bucket ${bucket}`);
        if (!deployed) {
            const pending = options.forceDestroyInFile
                ? `flux-bucket:forceDestroy is true in Pulumi.${stacks.infra}.yaml, but not applied yet`
                : "flux-bucket:forceDestroy is false";
            const set = options.forceDestroyInFile ? "" : `  pulumi config set flux-bucket:forceDestroy true --stack ${stacks.infra}\n`;
            throw new LifecycleError(
                `${stacks.infra}'s bucket ${bucket} would be left behind: ${pending}, and Pulumi cannot delete a versioned bucket that still ` +
                    `holds versions. Nothing was destroyed. To delete it with everything in it:\n${set}` +
                    `  pulumi up --stack ${stacks.infra}      # records it on the bucket\n` +
                    `  npm run down -- --stack ${stacks.infra}`,
            );
        }
    }
    const done: string[] = [];
    for (const stack of [...stacks.flux, stacks.infra]) {
        try {
            await destroy(stack, runner, options.yes, io);
            done.push(`pulumi destroy ${stack}`);
        } catch (error) {
            if (error instanceof DeclinedError) throw error;
            throw new LifecycleError(
                `pulumi destroy ${stack} failed: ${(error as Error).message}\n${done.length ? `done: ${done.join("; ")}` : "nothing was destroyed"}\n` +
                    `resume with: npm run down -- --stack ${stacks.infra}`,
            );
        }
    }
    io.log(`down: ${done.join("; ")}`);
}

/** `npm run preview`: the infra stack, then its flux stacks when the infra stack has outputs for them to read. */
export async function preview(stacks: StackSet, runner: StackRunner, io: LifecycleIo): Promise<void> {
    await preflight([stacks.infra, ...stacks.flux], runner, []);
    io.log(`${stacks.infra}: ${summaryLine(await runner.preview(stacks.infra))}`);
    if (stacks.flux.length === 0) return;
    if ((await runner.outputs(stacks.infra)) === undefined) {
        io.log(`${stacks.flux.join(", ")}: not previewed: ${stacks.infra} has no outputs yet for their StackReference (run npm run up first)`);
        return;
    }
    for (const stack of stacks.flux) io.log(`${stack}: ${summaryLine(await runner.preview(stack))}`);
}

/** Where a flux stack's cluster reads: the URL bucketops pushes to. */
export function pushTarget(infra: Outputs, flux: Outputs): string {
    const { provider, bucketName } = infra as Partial<InfraOutputs>;
    const scheme = (PROVIDERS[provider ?? "generic"] as ProviderFacts).scheme;
    if (!scheme) throw new LifecycleError(`bucketops cannot push to a '${provider}' bucket; push with that store's own tools`);
    return `${scheme}://${bucketName}/${(flux as Partial<FluxOutputs>).prefix ?? ""}`;
}

/** "+3 to create, ~1 to update, -0 to delete, 5 unchanged", as Pulumi's preview summary counts them. */
export function summaryLine(changes: ChangeSummary): string {
    const count = (...ops: string[]) => ops.reduce((sum, op) => sum + (changes[op] ?? 0), 0);
    const parts = [
        `${count("create")} to create`,
        `${count("update")} to update`,
        `${count("replace", "create-replacement", "delete-replaced")} to replace`,
        `${count("delete")} to delete`,
        `${count("same")} unchanged`,
    ];
    return parts.join(", ");
}

async function preflight(stacks: string[], runner: StackRunner, credentialProblems: string[]): Promise<void> {
    const problems = [...(await runner.problems(stacks)), ...credentialProblems];
    if (problems.length > 0) throw new LifecycleError(`nothing was changed:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
}

async function deploy(stack: string, runner: StackRunner, yes: boolean, io: LifecycleIo): Promise<Outputs> {
    const changes = await runner.preview(stack);
    io.log(`${stack}: ${summaryLine(changes)}`);
    if (!yes && !(await io.confirm(`Deploy ${stack}?`))) throw new DeclinedError(`not deploying ${stack}: declined; nothing more was changed`);
    return runner.up(stack);
}

async function destroy(stack: string, runner: StackRunner, yes: boolean, io: LifecycleIo): Promise<void> {
    const changes = await runner.previewDestroy(stack);
    io.log(`${stack}: ${changes.delete ?? 0} to delete`);
    if (!yes && !(await io.confirm(`Destroy ${stack}?`))) throw new DeclinedError(`not destroying ${stack}: declined; nothing more was destroyed`);
    await runner.destroy(stack);
}

async function existingOutputs(stack: string, runner: StackRunner): Promise<Outputs> {
    const outputs = await runner.outputs(stack);
    if (outputs === undefined) throw new LifecycleError(`${stack} has no outputs: it was never deployed; run npm run up without --from`);
    return outputs;
}
