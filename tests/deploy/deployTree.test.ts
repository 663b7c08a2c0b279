import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { listYamlFiles, parseYamlFile, validateTree } from "../../src/validate/index.ts";
import { DEPLOY_DIR } from "../validate/expectProblems.ts";
import { applyLikeFlux, build, chartOf, releases, type Manifest } from "./applyLikeFlux.ts";

/** The path the flux stack's root Kustomization points at (see docs/deploy-and-validation.md). */
const ROOT_PATH = "./clusters/dev";
const BUCKET_SOURCE = { kind: "Bucket", name: "flux-bucket" };

describe("deploy/", () => {
    it("passes validateTree", async () => {
        await validateTree(DEPLOY_DIR);
    });

    it(`${ROOT_PATH} holds the Flux Kustomizations: infrastructure-controllers, then apps, both from the bucket`, async () => {
        const objects = await build(DEPLOY_DIR, ROOT_PATH);
        assert.deepEqual(
            objects.map(({ kind, metadata, spec }) => ({
                kind,
                name: metadata.name,
                namespace: metadata.namespace,
                sourceRef: spec.sourceRef,
                path: spec.path,
                dependsOn: spec.dependsOn,
                prune: spec.prune,
                wait: spec.wait,
            })),
            [
                { kind: "Kustomization", name: "apps", namespace: "flux-system", sourceRef: BUCKET_SOURCE, path: "./apps/dev", dependsOn: [{ name: "infrastructure-controllers" }], prune: true, wait: true },
                { kind: "Kustomization", name: "infrastructure-controllers", namespace: "flux-system", sourceRef: BUCKET_SOURCE, path: "./infrastructure/controllers", dependsOn: undefined, prune: true, wait: true },
            ],
        );
    });

    it("ends up installing Traefik and podinfo, with podinfo's ingress on Traefik's class", async () => {
        const installed = releases(await applyLikeFlux(DEPLOY_DIR, ROOT_PATH));
        assert.deepEqual(
            installed.map(chartOf),
            ["podinfo/podinfo: podinfo@6.14.1", "traefik/traefik: traefik@41.3.0"],
        );
        const [podinfo, traefik] = installed;
        assert.equal(podinfo.spec.values.ingress.className, traefik.spec.values.ingressClass.name);
    });

    it("uses the current Flux APIs and pins chart versions exactly", async () => {
        const current: Record<string, string> = {
            HelmRelease: "helm.toolkit.fluxcd.io/v2",
            HelmRepository: "source.toolkit.fluxcd.io/v1",
            Kustomization: "kustomize.toolkit.fluxcd.io/v1",
        };
        const files = await Promise.all((await listYamlFiles(DEPLOY_DIR)).map(parseYamlFile));
        const fluxObjects = files
            .flatMap(({ file, documents }) => (documents as Manifest[]).map((object) => ({ file: path.relative(DEPLOY_DIR, file), object })))
            .filter(({ object }) => object.apiVersion?.includes(".fluxcd.io/"));
        assert.ok(fluxObjects.length >= 6, `expected the tree's Flux objects, found ${fluxObjects.length}`);
        for (const { file, object } of fluxObjects) {
            assert.equal(object.apiVersion, current[object.kind], `${file}: ${object.kind}/${object.metadata.name}`);
            const version = object.kind === "HelmRelease" ? object.spec.chart?.spec?.version : undefined;
            if (version !== undefined) assert.match(version, /^\d+\.\d+\.\d+$/, `${file}: chart version`);
        }
    });

    it("has a kustomization.yaml in every folder that holds manifests", async () => {
        const folders = new Set((await listYamlFiles(DEPLOY_DIR)).map((file) => path.dirname(file)));
        const without = [...folders].filter((folder) => !existsSync(path.join(folder, "kustomization.yaml")));
        assert.deepEqual(without.map((folder) => path.relative(DEPLOY_DIR, folder)), []);
    });
});
