import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { previewTree } from "../../src/render/previewTree.ts";
import { runFlux, runInfra, asStackReference } from "../support/offline.ts";

describe("npm run render's preview: the offline engine's records in the shape of pulumi preview", () => {
    it("draws the infra stack's components with their resources below them, and counts the stack itself", async () => {
        const run = await runInfra({ provider: "aws" });
        const lines = previewTree("flux-bucket", "dev", run.resources);
        const rows = lines.slice(1, run.resources.length + 2).map((line) => line.replace(/\s+/g, " ").trim());
        assert.deepEqual(rows.slice(0, 5), [
            "+ pulumi:pulumi:Stack flux-bucket-dev create",
            "+ ├─ fluxbucket:civo:Cluster cluster create",
            "+ │ └─ civo:index/kubernetesCluster:KubernetesCluster cluster create",
            "+ ├─ pulumi:providers:aws aws create",
            "+ └─ fluxbucket:aws:FluxBucket bucket create",
        ]);
        assert.equal(rows.length, run.resources.length + 1, "every recorded resource once, plus the stack");
        // Each resource sits one level below its parent: the tree is the records' parent links.
        const depth = (line: string) => (line.indexOf("─") - " +   ├".length) / 3;
        const body = lines.slice(2, run.resources.length + 2);
        for (const resource of run.resources) {
            assert.ok(body.some((line) => line.includes(` ${resource.type} `) && line.includes(` ${resource.name} `)), resource.urn);
        }
        const bucket = body.find((line) => line.includes("aws:s3/bucket:Bucket "))!;
        const versioned = body.find((line) => line.includes("fluxbucket:aws:VersionedBucket "))!;
        assert.equal(depth(versioned), 1);
        assert.equal(depth(bucket), 2);
        assert.deepEqual(lines.slice(-2), ["Resources:", `    + ${run.resources.length + 1} to create`]);
    });

    it("shows the flux stack's StackReference as a read, not a create", async () => {
        const infra = await runInfra({ provider: "aws" });
        const run = await runFlux({}, asStackReference(infra));
        const lines = previewTree("flux-bucket", "dev-flux", run.resources);
        assert.match(lines.find((line) => line.includes("StackReference"))!, /^ >- {2}├─ pulumi:pulumi:StackReference +infra +read$/);
        assert.equal(lines.at(-1), `    + ${run.resources.length} to create`);
    });
});
