import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { AutomationRunner } from "../../src/lifecycle/automation.ts";
import { down, preview, up, type Delivery, type LifecycleIo } from "../../src/lifecycle/lifecycle.ts";
import type { StackSet } from "../../src/lifecycle/stacks.ts";
import { PulumiStandIn, standInStack } from "../support/pulumiCli.ts";

/**
 * The Automation API runner against a stand-in `pulumi` on PATH that answers as the real CLI does (exit codes, error
 * texts, JSON and the engine's events: tests/support/pulumiStandIn.mjs): @pulumi/pulumi 3.270's own code runs it,
 * execa and all.
 */
const STACKS: StackSet = {
    infra: "dev",
    infraConfig: undefined as never,
    flux: ["dev-flux"],
    ownCluster: [],
    prefixes: { "dev-flux": "" },
};
const INFRA = { provider: "aws", bucketName: "flux-bucket-1a2b", forceDestroy: false, writerSecretAccessKey: "writer-secret" };
const FLUX = { namespace: "flux-system", bucket: "flux-bucket", prefix: "" };
const CLI_NOISE = /Command failed|code: -2|stdout:|err\?:|Previewing update|Diagnostics:/;

describe("the Automation API runner against a stand-in pulumi CLI", () => {
    let cli: PulumiStandIn;
    let project: string;
    let out: string[];
    let err: string[];
    let runner: AutomationRunner;
    beforeEach(() => {
        cli = new PulumiStandIn({
            current: "other",
            stacks: {
                other: standInStack(),
                dev: standInStack({ upOutputs: INFRA, secrets: ["writerSecretAccessKey"] }),
                "dev-flux": standInStack({ upOutputs: FLUX }),
            },
        });
        project = mkdtempSync(path.join(tmpdir(), "flux-bucket-automation-"));
        writeFileSync(path.join(project, "Pulumi.yaml"), "name: flux-bucket\nruntime: nodejs\n");
        out = [];
        err = [];
        runner = new AutomationRunner(project, { onOutput: (text) => out.push(text), onError: (text) => err.push(text) });
    });
    afterEach(() => cli.close());

    const io = (): LifecycleIo & { lines: string[] } => {
        const lines: string[] = [];
        return { lines, log: (line) => lines.push(line), confirm: async () => true };
    };
    const noDelivery: Delivery = { push: async () => "sha256:feed", waitFor: async () => true };

    it("not logged in: the CLI's own reason and exit code, not execa's command line", async () => {
        cli.update((state) => (state.loggedIn = false));
        assert.deepEqual(await runner.problems(["dev", "dev-flux"]), [
            "not logged in to a Pulumi backend: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions (pulumi: exit code 3); run pulumi login",
        ]);
    });

    it("no CLI on PATH, and stacks that do not exist, are named", async () => {
        const saved = process.env.PATH;
        process.env.PATH = cli.dir;
        try {
            assert.deepEqual(await new AutomationRunner(project, { onOutput: () => {}, onError: () => {} }).problems(["dev"]), [
                "the Pulumi CLI is not on PATH: install it from https://www.pulumi.com/docs/install/",
            ]);
        } finally {
            process.env.PATH = saved;
        }
        assert.deepEqual(await runner.problems(["dev", "prod-flux"]), [
            "stack prod-flux does not exist in https://app.pulumi.com/alice: create it with pulumi stack init prod-flux (its config is Pulumi.prod-flux.yaml)",
        ]);
    });

    it("up runs each stack by --stack and never selects one: the user's current stack stays theirs", async () => {
        const lifecycle = io();
        await up({ stacks: STACKS, yes: true, from: "infra", credentialProblems: [] }, runner, noDelivery, lifecycle);
        assert.equal(cli.read().current, "other");
        const commands = cli.commands();
        assert.ok(!commands.some((command) => command.startsWith("stack select")), commands.join("\n"));
        assert.deepEqual(
            commands.filter((command) => /^(preview|up) /.test(command)),
            [
                "preview --color auto --exec-kind auto.local --stack dev --non-interactive",
                "up --yes --skip-preview --color auto --exec-kind auto.local --stack dev --non-interactive",
                "preview --color auto --exec-kind auto.local --stack dev-flux --non-interactive",
                "up --yes --skip-preview --color auto --exec-kind auto.local --stack dev-flux --non-interactive",
            ],
        );
        // The change summary comes from the engine's summary event, Pulumi's own output is streamed.
        assert.equal(lifecycle.lines[0], "dev: 3 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged");
        assert.ok(out.join("").includes("Updating (dev)"));
        assert.deepEqual(await runner.outputs("dev"), INFRA, "outputs with secrets in the clear");
    });

    it("a failed up names the engine's errors once, streams stderr as it comes, and says how to resume", async () => {
        cli.update((state) => {
            state.stacks["dev-flux"].fail = { up: ["kubernetes:helm.sh/v3:Release (flux): context deadline exceeded", "update failed"] };
            state.stacks["dev-flux"].stderr = "warning: the kubeconfig's cluster is unreachable\n";
        });
        await assert.rejects(up({ stacks: STACKS, yes: true, from: "infra", credentialProblems: [] }, runner, noDelivery, io()), (error: Error) => {
            assert.equal(
                error.message,
                "pulumi up dev-flux failed: kubernetes:helm.sh/v3:Release (flux): context deadline exceeded; update failed (pulumi: exit code 1)\n" +
                    "done: pulumi up dev\nresume with: npm run up -- --stack dev --from flux",
            );
            assert.doesNotMatch(error.message, CLI_NOISE);
            return true;
        });
        assert.ok(err.join("").includes("warning: the kubeconfig's cluster is unreachable"), "stderr is streamed (onError)");
        // Pulumi's own account of the failure reached the user once, as it ran.
        assert.equal(out.join("").split("Diagnostics:").length - 1, 1, "up's display of the failure, once");
    });

    it("down reads forceDestroy from the deployed outputs; a failed destroy is reported by its reason", async () => {
        cli.update((state) => {
            state.stacks.dev.outputs = INFRA;
            state.stacks["dev-flux"].outputs = FLUX;
        });
        await assert.rejects(down({ stacks: STACKS, yes: true, forceDestroyInFile: true, credentialProblems: [] }, runner, io()), /true in Pulumi\.dev\.yaml, but not applied yet/);
        assert.ok(!cli.commands().some((command) => command.startsWith("destroy")));

        cli.update((state) => {
            state.stacks.dev.outputs = { ...INFRA, forceDestroy: true };
            state.stacks.dev.fail = { destroy: ["aws:s3/bucket:Bucket (bucket): BucketNotEmpty: The bucket you tried to delete is not empty", "destroy failed"] };
        });
        await assert.rejects(down({ stacks: STACKS, yes: true, forceDestroyInFile: true, credentialProblems: [] }, runner, io()), {
            message:
                "pulumi destroy dev failed: aws:s3/bucket:Bucket (bucket): BucketNotEmpty: The bucket you tried to delete is not empty; destroy failed (pulumi: exit code 1)\n" +
                "done: pulumi destroy dev-flux\nresume with: npm run down -- --stack dev",
        });
        assert.deepEqual(await runner.outputs("dev-flux"), undefined, "the flux stack was destroyed");
        assert.equal(cli.read().current, "other");
    });

    it("preview previews the flux stack once the infra stack has outputs", async () => {
        cli.update((state) => (state.stacks.dev.outputs = INFRA));
        const lifecycle = io();
        await preview(STACKS, runner, lifecycle);
        assert.deepEqual(lifecycle.lines, [
            "dev: 3 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged",
            "dev-flux: 3 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged",
        ]);
    });

    it("npm run up itself: Pulumi's stderr on stderr as it comes, the reason once, exit 1", () => {
        cli.update((state) => {
            state.stacks["dev-flux"].fail = { up: ["kubernetes:helm.sh/v3:Release (flux): timed out waiting for the condition", "update failed"] };
            state.stacks["dev-flux"].stderr = "warning: the chart's repository answered slowly\n";
        });
        const env = { ...process.env, CIVO_TOKEN: "token", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_EC2_METADATA_DISABLED: "true" };
        const root = path.resolve(import.meta.dirname, "../..");
        const run = spawnSync(process.execPath, [path.join(root, "src/lifecycle/main.ts"), "up", "--stack", "dev", "--yes"], { env, encoding: "utf8", timeout: 60_000 });
        assert.equal(run.status, 1, run.stderr);
        assert.ok(run.stderr.startsWith("warning: the chart's repository answered slowly\n"), run.stderr);
        assert.ok(
            run.stderr.endsWith(
                "up: pulumi up dev-flux failed: kubernetes:helm.sh/v3:Release (flux): timed out waiting for the condition; update failed (pulumi: exit code 1)\n" +
                    "done: pulumi up dev\nresume with: npm run up -- --stack dev --from flux\n",
            ),
            run.stderr,
        );
        assert.equal(run.stdout.split("timed out waiting for the condition").length - 1, 1, "Pulumi's diagnostics once, on stdout");
        assert.equal(cli.read().current, "other");
    });
});
