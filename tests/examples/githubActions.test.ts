import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { main } from "../../src/cli/main.ts";
import { runInfra } from "../support/offline.ts";

const root = path.resolve(import.meta.dirname, "../..");

interface Workflow {
    on: Record<string, unknown>;
    permissions: Record<string, string>;
    jobs: Record<string, { if: string; steps: { uses?: string; with?: Record<string, string>; run?: string }[] }>;
}

/** The repository variables a workflow's header maps to infra stack outputs: `#   NAME   output (environments: …)`. */
function variables(text: string): Map<string, string> {
    return new Map([...text.matchAll(/^#\s+(BUCKETOPS_[A-Z_]+)\s+(\S+)/gm)].map(([, name, output]) => [name, output]));
}

async function help(command: string): Promise<string> {
    const out: string[] = [];
    const code = await main([command, "--help"], { out: (...parts: unknown[]) => out.push(parts.join(" ")), err: () => undefined });
    assert.equal(code, 0);
    return out.join("\n");
}

/** Each `npx bucketops <command> …` of a step, checked against the CLI's own help: the command and every flag exist. */
async function checkCommands(steps: Workflow["jobs"][string]["steps"]): Promise<string[]> {
    const commands = steps.flatMap((step) => [...(step.run ?? "").matchAll(/npx bucketops (\w+)([^|\n]*)/g)]);
    for (const [, command, rest] of commands) {
        const usage = await help(command);
        for (const flag of rest.match(/--[a-z-]+/g) ?? []) assert.ok(usage.includes(flag), `bucketops ${command} has ${flag}`);
    }
    return commands.map(([, command]) => command);
}

describe("the GitHub Actions examples", () => {
    for (const [file, stack, login, identity] of [
        ["aws.yml", { cluster: "eks", provider: "aws" }, "aws-actions/configure-aws-credentials@v6", "role-to-assume"],
        ["gcp.yml", { cluster: "gke", provider: "gcp", gcpProject: "acme-prod" }, "google-github-actions/auth@v3", "service_account"],
    ] as const) {
        test(`${file}: OIDC login as the CI reader for diffs on pull requests, as the writer for pushes; no secret`, async () => {
            const text = readFileSync(path.join(root, "examples/github-actions", file), "utf8");
            const workflow = parse(text) as Workflow;
            assert.deepEqual(workflow.permissions, { "id-token": "write", contents: "read" });
            assert.doesNotMatch(text, /secrets\./, "no stored secret");

            // Every variable names an output the keyless infra stack really exports (an offline run of it).
            const outputs = (await runInfra({ ...stack, githubRepository: "acme/deploy", githubRepositoryId: "456789", githubOwnerId: "123456" })).outputs;
            const named = variables(text);
            for (const [name, output] of named) {
                if (output.includes("://")) continue; // the URL, made of bucketName and a prefix
                assert.ok(output in outputs, `${name}: output ${output}`);
            }

            const { diff, push } = workflow.jobs;
            assert.equal(diff.if, "github.event_name == 'pull_request'");
            assert.equal(push.if, "github.event_name == 'push'");
            const loginOf = (job: typeof diff) => job.steps.find((step) => step.uses === login)!.with![identity];
            assert.equal(named.get(loginOf(diff).replace(/^\$\{\{ vars\.(\w+) \}\}$/, "$1"))?.startsWith("ciReader"), true);
            assert.equal(named.get(loginOf(push).replace(/^\$\{\{ vars\.(\w+) \}\}$/, "$1"))?.startsWith("ciWriter"), true);
            assert.deepEqual(await checkCommands(diff.steps), ["diff"]);
            assert.deepEqual(await checkCommands(push.steps), ["push"]);
        });
    }
});
