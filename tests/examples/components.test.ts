import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { runOffline } from "../../src/offline/engine.ts";
import { only, ORGANIZATION, PROJECT } from "../support/offline.ts";

const root = path.resolve(import.meta.dirname, "../..");

test("the README's component example is examples/components.ts, which type-checks (npm test) and runs", async () => {
    const example = readFileSync(path.join(root, "examples/components.ts"), "utf8");
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    assert.ok(readme.includes(`\`\`\`ts\n${example}\`\`\``), "README.md shows examples/components.ts verbatim");

    const run = await runOffline(() => import("../../examples/components.ts"), {
        project: PROJECT,
        stack: "example",
        organization: ORGANIZATION,
        config: { [`${PROJECT}:kubeconfig`]: "apiVersion: v1\nkind: Config\n" },
    });
    const bucket = only(run, "kubernetes:source.toolkit.fluxcd.io/v1:Bucket");
    assert.equal(bucket.inputs.spec.provider, "aws");
    assert.equal(bucket.inputs.spec.endpoint, "s3.eu-west-1.amazonaws.com");
    assert.deepEqual(Object.keys(only(run, "kubernetes:core/v1:Secret").inputs.stringData), ["accesskey", "secretkey"]);
});
