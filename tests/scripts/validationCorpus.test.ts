import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { writeTree } from "../support/trees.ts";

const SCRIPT = path.resolve(import.meta.dirname, "../../scripts/validationCorpus.ts");

// scripts/validationCorpus.ts prepare: the one change a user moving to BucketOps makes, and nothing else.
test("prepare points the cluster's own source at the Bucket, and leaves every other source as it is", (t) => {
    const repo = writeTree({
        "clusters/prod/apps.yaml":
            "# the apps\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  path: ./apps\n  sourceRef:\n    kind: GitRepository\n    name: flux-system # bootstrap's\n",
        "clusters/prod/own.yaml":
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet-repo\nspec:\n  url: https://github.com/example/fleet-repo\n  ref: {branch: main}\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: tenant\nspec:\n  url: https://github.com/example/fleet-repo\n  ref: {branch: tenant}\n",
        "clusters/prod/infra.yaml":
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infra\nspec:\n  sourceRef: {kind: GitRepository, name: fleet-repo}\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: tenant\nspec:\n  sourceRef: {kind: GitRepository, name: tenant}\n",
        "clusters/prod/release.yaml":
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    spec:\n      sourceRef:\n        kind: HelmRepository\n        name: flux-system\n",
        "clusters/prod/artifacts.yaml":
            "apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata:\n  name: a\nspec:\n  sources:\n    - alias: repo\n      kind: GitRepository\n      name: flux-system\n",
        "clusters/prod/instance.yaml":
            "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\nspec:\n  sync:\n    kind: OCIRepository\n    url: oci://ghcr.io/example/fleet\n    path: clusters/prod\n",
    });
    execFileSync("git", ["init", "-q"], { cwd: repo });
    execFileSync("git", ["add", "."], { cwd: repo });
    execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", "commit", "-qm", "fleet"], { cwd: repo });
    const out = path.join(mkdtempSync(path.join(tmpdir(), "corpus-")), "example+fleet-repo");
    t.after(() => {
        rmSync(repo, { recursive: true, force: true });
        rmSync(path.dirname(out), { recursive: true, force: true });
    });
    execFileSync(process.execPath, [SCRIPT, "prepare", path.join(repo, ".git"), "HEAD", out], { encoding: "utf8" });

    const read = (file: string) => readFileSync(path.join(out, file), "utf8");
    const objects = (file: string) => parseAllDocuments(read(file)).map((document) => document.toJS());
    assert.match(read("clusters/prod/apps.yaml"), /^# the apps\n/, "comments are kept");
    assert.deepEqual(objects("clusters/prod/apps.yaml")[0].spec.sourceRef, { kind: "Bucket", name: "flux-bucket" });
    // A GitRepository of the repository itself on its main branch is the cluster's source; the tenant's branch is not.
    assert.deepEqual(objects("clusters/prod/infra.yaml").map((object) => object.spec.sourceRef), [
        { kind: "Bucket", name: "flux-bucket" },
        { kind: "GitRepository", name: "tenant" },
    ]);
    assert.deepEqual(objects("clusters/prod/release.yaml")[0].spec.chart.spec.sourceRef, { kind: "HelmRepository", name: "flux-system" });
    assert.deepEqual(objects("clusters/prod/artifacts.yaml")[0].spec.sources, [{ alias: "repo", kind: "Bucket", name: "flux-bucket" }]);
    assert.equal(objects("clusters/prod/instance.yaml")[0].spec.sync.kind, "Bucket");
    const record = JSON.parse(read(".corpus.json"));
    assert.equal(record.commit, execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo, encoding: "utf8" }).trim());
    assert.equal(record.refs, 4);
});
