import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { listYamlFiles, validateTree } from "../../src/validate/index.ts";
import { DEPLOY_DIR, expectProblems } from "../validate/expectProblems.ts";
import { applyLikeFlux, build, chartOf, releases } from "./applyLikeFlux.ts";

/** An environment tree meant for `bucketops push <it> s3://<bucket>/prod/` (see docs/deploy-and-validation.md). */
const PROD_DIR = path.resolve(import.meta.dirname, "fixtures/prod");
const PREFIX = "prod/";
/** The prod cluster's root Kustomization path: the prefix is part of it. */
const ROOT_PATH = "./prod/clusters/prod";

/**
 * The artifact Flux builds from a Bucket with spec.prefix prod/: the objects keep their full keys,
 * so the tree sits in a prod/ folder of it.
 */
function artifactOf(t: { after(fn: () => void): void }, tree: string, prefix: string): string {
    const artifact = mkdtempSync(path.join(tmpdir(), "flux-bucket-artifact-"));
    t.after(() => rmSync(artifact, { recursive: true, force: true }));
    cpSync(tree, path.join(artifact, prefix), { recursive: true });
    return artifact;
}

const outsidePrefix = (fluxPath: string) =>
    `"${fluxPath}" is outside the prefix prod/ this tree is pushed under; Flux keeps the prefix in artifact paths, so write ./prod${fluxPath.slice(1)}`;

describe("an environment under the prefix prod/ (tests/deploy/fixtures/prod)", { concurrency: true }, () => {
    it("passes validateTree with its prefix", async () => {
        await validateTree(PROD_DIR, { prefix: PREFIX });
    });

    it("fails validateTree as a tree for the bucket root: its paths name the prefix", async () => {
        await expectProblems(() => validateTree(PROD_DIR), [
            { file: path.join(PROD_DIR, "clusters/prod/apps.yaml"), object: "Kustomization/apps", field: "spec.path", message: '"./prod/apps/prod" is not a directory of the tree' },
            {
                file: path.join(PROD_DIR, "clusters/prod/infrastructure.yaml"),
                object: "Kustomization/infrastructure-controllers",
                field: "spec.path",
                message: '"./prod/infrastructure/controllers" is not a directory of the tree',
            },
        ]);
    });

    it("deploy/, made for the bucket root, fails under prod/ with the path to write instead", async () => {
        await expectProblems(() => validateTree(DEPLOY_DIR, { prefix: PREFIX }), [
            { file: path.join(DEPLOY_DIR, "clusters/dev/apps.yaml"), object: "Kustomization/apps", field: "spec.path", message: outsidePrefix("./apps/dev") },
            {
                file: path.join(DEPLOY_DIR, "clusters/dev/infrastructure.yaml"),
                object: "Kustomization/infrastructure-controllers",
                field: "spec.path",
                message: outsidePrefix("./infrastructure/controllers"),
            },
        ]);
    });

    it(`applied like Flux from ${ROOT_PATH} of the artifact, installs Traefik, then podinfo with two replicas`, async (t) => {
        const artifact = artifactOf(t, PROD_DIR, PREFIX);
        const kustomizations = await build(artifact, ROOT_PATH);
        assert.deepEqual(
            kustomizations.map(({ metadata, spec }) => [metadata.name, spec.path, spec.dependsOn]),
            [
                ["apps", "./prod/apps/prod", [{ name: "infrastructure-controllers" }]],
                ["infrastructure-controllers", "./prod/infrastructure/controllers", undefined],
            ],
        );
        const installed = releases(await applyLikeFlux(artifact, ROOT_PATH));
        assert.deepEqual(installed.map(chartOf), ["podinfo/podinfo: podinfo@6.14.1", "traefik/traefik: traefik@41.3.0"]);
        assert.equal(installed[0].spec.values.replicaCount, 2);
    });

    it("shares infrastructure/ and apps/base/ with deploy/ byte for byte, so it cannot drift from it", async () => {
        for (const shared of ["infrastructure", "apps/base"]) {
            const files = (dir: string) => listYamlFiles(path.join(dir, shared)).then((list) => list.map((file) => path.relative(dir, file)));
            const inDeploy = await files(DEPLOY_DIR);
            assert.deepEqual(await files(PROD_DIR), inDeploy);
            for (const file of inDeploy) assert.equal(readFileSync(path.join(PROD_DIR, file), "utf8"), readFileSync(path.join(DEPLOY_DIR, file), "utf8"), file);
        }
    });
});
