import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { CachedBuild } from "../../src/validate/buildCache.ts";
import { validateTree } from "../../src/validate/tree.ts";
import { CountingCache } from "../support/countingCache.ts";
import { writeTree } from "../support/trees.ts";

const ROOT = "./clusters/dev";
/**
 * A Flux Kustomization over an app folder whose kustomization kustomize must build (images, a patch file, a
 * ConfigMap generator reading a file): what kubectl builds for it is kept by everything it reads.
 */
function fleetTree(): string {
    return writeTree({
        "clusters/dev/apps.yaml": [
            "apiVersion: kustomize.toolkit.fluxcd.io/v1",
            "kind: Kustomization",
            "metadata: {name: apps, namespace: flux-system}",
            "spec:",
            "  interval: 10m",
            "  prune: true",
            "  path: ./apps",
            "  targetNamespace: apps",
            "  sourceRef: {kind: Bucket, name: flux-bucket}",
            "",
        ].join("\n"),
        "apps/kustomization.yaml": [
            "resources: [deployment.yaml]",
            "images: [{name: nginx, newTag: '1.27'}]",
            "patches: [{path: patch.yaml}]",
            "configMapGenerator: [{name: app-config, files: [config.txt]}]",
            "",
        ].join("\n"),
        "apps/deployment.yaml": [
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata: {name: web}",
            "spec:",
            "  selector: {matchLabels: {app: web}}",
            "  template:",
            "    metadata: {labels: {app: web}}",
            "    spec: {containers: [{name: web, image: nginx}]}",
            "",
        ].join("\n"),
        "apps/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n",
        "apps/config.txt": "greeting=hello\n",
    });
}

/** Runs `validate` with a kubectl that cannot start: a build not answered by the cache fails. */
async function withoutKubectl<T>(validate: () => Promise<T>): Promise<T> {
    const before = process.env.KUBECTL;
    process.env.KUBECTL = path.join(tmpdir(), "no-such-kubectl");
    try {
        return await validate();
    } finally {
        if (before === undefined) delete process.env.KUBECTL;
        else process.env.KUBECTL = before;
    }
}

const noKubectl = /kustomize build failed: cannot run ".*no-such-kubectl kustomize"/;

test("a kubectl build is kept by its inputs: the same tree validates again without kubectl, a change to any input builds again", async () => {
    const tree = fleetTree();
    const builds = new CountingCache<CachedBuild>();
    assert.equal((await validateTree(tree, { rootPath: ROOT, buildCache: builds })).mode, "flux");
    assert.equal(builds.entries.size, 1, "the app folder's build (the root's composes)");
    const [kept] = builds.entries.values();
    const deployment = kept.objects.find(({ object }) => (object as { kind: string }).kind === "Deployment");
    assert.equal(deployment?.file, "apps/deployment.yaml", "files are kept relative to the tree");
    assert.equal((deployment?.object as { spec: { replicas: number } }).spec.replicas, 2);

    await withoutKubectl(() => validateTree(tree, { rootPath: ROOT, buildCache: builds }));
    assert.equal(builds.hits, 1);

    // Each file the build reads, and the Flux Kustomization's fields it builds with, are part of the key.
    const changes: [string, string][] = [
        ["apps/config.txt", "greeting=bonjour\n"],
        ["apps/patch.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n"],
        ["apps/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {tier: front}}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"],
        ["apps/kustomization.yaml", "resources: [deployment.yaml]\nimages: [{name: nginx, newTag: '1.28'}]\npatches: [{path: patch.yaml}]\nconfigMapGenerator: [{name: app-config, files: [config.txt]}]\n"],
        ["clusters/dev/apps.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  interval: 10m\n  prune: true\n  path: ./apps\n  targetNamespace: web\n  sourceRef: {kind: Bucket, name: flux-bucket}\n"],
    ];
    for (const [file, content] of changes) {
        writeFileSync(path.join(tree, file), content);
        await assert.rejects(withoutKubectl(() => validateTree(tree, { rootPath: ROOT, buildCache: builds })), noKubectl, `${file} changed: built again`);
        await validateTree(tree, { rootPath: ROOT, buildCache: builds });
        await withoutKubectl(() => validateTree(tree, { rootPath: ROOT, buildCache: builds }));
    }
    assert.equal(builds.entries.size, 1 + changes.length);

    // A postBuild change is applied after the build: the kept build answers.
    writeFileSync(
        path.join(tree, "clusters/dev/apps.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  interval: 10m\n  prune: true\n  path: ./apps\n  targetNamespace: web\n  postBuild: {substitute: {tier: front}}\n  sourceRef: {kind: Bucket, name: flux-bucket}\n",
    );
    await withoutKubectl(() => validateTree(tree, { rootPath: ROOT, buildCache: builds }));
});

test("a build that may read what the validator does not follow (openapi, a generator's own files) or that fails is not kept", async () => {
    const tree = fleetTree();
    writeFileSync(path.join(tree, "apps/schema.json"), JSON.stringify({ definitions: {} }));
    writeFileSync(
        path.join(tree, "apps/kustomization.yaml"),
        "resources: [deployment.yaml]\nimages: [{name: nginx, newTag: '1.27'}]\nopenapi: {path: schema.json}\n",
    );
    const builds = new CountingCache<CachedBuild>();
    await validateTree(tree, { rootPath: ROOT, buildCache: builds });
    assert.equal(builds.entries.size, 0);

    // A built-in generator's configuration names config.txt, which the kustomization itself does not.
    writeFileSync(path.join(tree, "apps/generator.yaml"), "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: generated}\nfiles: [config.txt]\n");
    writeFileSync(path.join(tree, "apps/kustomization.yaml"), "resources: [deployment.yaml]\ngenerators: [generator.yaml]\n");
    await validateTree(tree, { rootPath: ROOT, buildCache: builds });
    assert.equal(builds.entries.size, 0);

    // kustomize refuses a patch of an object the build does not have.
    writeFileSync(path.join(tree, "apps/patch.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\nspec: {replicas: 2}\n");
    writeFileSync(path.join(tree, "apps/kustomization.yaml"), "resources: [deployment.yaml]\nimages: [{name: nginx, newTag: '1.27'}]\npatches: [{path: patch.yaml}]\n");
    await assert.rejects(validateTree(tree, { rootPath: ROOT, buildCache: builds }), /kustomize build failed: .*other/);
    assert.equal(builds.entries.size, 0);
});

test("a change builds again only the entry points that read it: another app's kept build answers", async () => {
    const tree = fleetTree();
    writeFileSync(
        path.join(tree, "clusters/dev/other.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: other, namespace: flux-system}\nspec:\n  interval: 10m\n  prune: true\n  path: ./other\n  sourceRef: {kind: Bucket, name: flux-bucket}\n",
    );
    const other = writeTree({ "kustomization.yaml": "resources: [cm.yaml]\ncommonAnnotations: {team: other}\n", "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n" }, path.join(tree, "other"));
    assert.equal(other, path.join(tree, "other"));
    const builds = new CountingCache<CachedBuild>();
    await validateTree(tree, { rootPath: ROOT, buildCache: builds });
    assert.deepEqual([builds.entries.size, builds.hits], [2, 0]);
    writeFileSync(path.join(tree, "apps/config.txt"), "greeting=hola\n");
    await validateTree(tree, { rootPath: ROOT, buildCache: builds });
    assert.deepEqual([builds.entries.size, builds.hits], [3, 1], "the app folder built again, the other one kept");
});

test("one kustomize build serves the entry points of a folder that differ in postBuild only; each substitutes and is checked on its own", async () => {
    // The root Kustomization (no postBuild) and a Kustomization of the tree over the same folder, as in bjw-s/home-ops.
    const tree = writeTree({
        "clusters/dev/kustomization.yaml": "resources: [self.yaml, web.yaml]\ncommonAnnotations: {team: apps}\n",
        "clusters/dev/self.yaml": [
            "apiVersion: kustomize.toolkit.fluxcd.io/v1",
            "kind: Kustomization",
            "metadata: {name: cluster, namespace: flux-system}",
            "spec:",
            "  interval: 10m",
            "  prune: true",
            "  path: ./clusters/dev",
            "  sourceRef: {kind: Bucket, name: flux-bucket}",
            '  postBuild: {substitute: {REPLICAS: "two"}}',
            "",
        ].join("\n"),
        "clusters/dev/web.yaml": [
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata: {name: web}",
            "spec:",
            "  replicas: ${REPLICAS}",
            "  selector: {matchLabels: {app: web}}",
            "  template:",
            "    metadata: {labels: {app: web}}",
            "    spec: {containers: [{name: web, image: nginx}]}",
            "",
        ].join("\n"),
    });
    const log = path.join(tree, "..", `${path.basename(tree)}-kubectl.log`);
    const wrapper = path.join(tree, "..", `${path.basename(tree)}-kubectl`);
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${log}\nexec kubectl "$@"\n`, { mode: 0o755 });
    const before = process.env.KUBECTL;
    process.env.KUBECTL = wrapper;
    try {
        // The tree's Kustomization substitutes "two": refused there; the root's build leaves ${REPLICAS} (a warning).
        await assert.rejects(validateTree(tree, { rootPath: ROOT }), /web\.yaml: Deployment\/web: spec\.replicas: must be integer \(got "two"\) after postBuild substitution \(Kustomization\/cluster\)/);
        assert.equal(readFileSync(log, "utf8").trim().split("\n").length, 1, "one kubectl run for both");
        writeFileSync(path.join(tree, "clusters/dev/self.yaml"), readFileSync(path.join(tree, "clusters/dev/self.yaml"), "utf8").replace('"two"', '"2"'));
        const report = await validateTree(tree, { rootPath: ROOT });
        assert.deepEqual(report.warnings.map(({ object, field }) => `${object} ${field}`), ["Deployment/web spec.replicas"], "the root's build, as written");
    } finally {
        if (before === undefined) delete process.env.KUBECTL;
        else process.env.KUBECTL = before;
    }
});
