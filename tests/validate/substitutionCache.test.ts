import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { validateTree } from "../../src/validate/tree.ts";
import { CountingCache } from "../support/countingCache.ts";
import { writeTree } from "../support/trees.ts";

const kustomization = (replicas: string) =>
    [
        "apiVersion: kustomize.toolkit.fluxcd.io/v1",
        "kind: Kustomization",
        "metadata: {name: apps, namespace: flux-system}",
        "spec:",
        "  interval: 10m",
        "  prune: true",
        "  path: ./apps",
        "  sourceRef: {kind: Bucket, name: flux-bucket}",
        `  postBuild: {substitute: {REPLICAS: "${replicas}", TIER: front}}`,
        "",
    ].join("\n");

const deployment = (label: string) =>
    [
        "apiVersion: apps/v1",
        "kind: Deployment",
        `metadata: {name: web, labels: {tier: "\${TIER}", note: ${label}}}`,
        "spec:",
        "  replicas: ${REPLICAS}",
        "  selector: {matchLabels: {app: web}}",
        "  template:",
        "    metadata: {labels: {app: web}}",
        "    spec: {containers: [{name: web, image: nginx}]}",
        "",
    ].join("\n");

test("postBuild substitution is kept by the object and its variables: a change to either substitutes again, with Flux's outcome", async () => {
    const tree = writeTree({ "clusters/dev/apps.yaml": kustomization("2"), "apps/deployment.yaml": deployment("a"), "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: b}\n" });
    const substituted = new CountingCache<unknown>();
    const validate = () => validateTree(tree, { rootPath: "./clusters/dev", substituted });
    await validate();
    assert.equal(substituted.entries.size, 1, "only the object with a ${…} is substituted");
    const [object] = substituted.entries.values() as Iterable<{ spec: { replicas: unknown }; metadata: { labels: Record<string, string> } }>;
    assert.equal(object.spec.replicas, 2, "substituted text parsed again, as kustomize-controller does: a number");
    assert.equal(object.metadata.labels.tier, "front");

    await validate();
    assert.equal(substituted.hits, 1);

    // Another value of a variable: substituted again, and the schema check sees the new outcome.
    writeFileSync(path.join(tree, "clusters/dev/apps.yaml"), kustomization("two"));
    await assert.rejects(validate(), /spec\.replicas/);
    assert.equal(substituted.entries.size, 2);
    // The object changed: substituted again.
    writeFileSync(path.join(tree, "clusters/dev/apps.yaml"), kustomization("3"));
    writeFileSync(path.join(tree, "apps/deployment.yaml"), deployment("b"));
    await validate();
    assert.equal(substituted.entries.size, 3);
    assert.equal(substituted.hits, 1);
});
