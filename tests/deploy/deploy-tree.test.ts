import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { kustomizeBuild, listYamlFiles, parseYamlFile, parseYamlText, validateTree } from "../../src/validate";
import { DEPLOY_DIR } from "../validate/expect-problems";

/** The path the flux stack's root Kustomization points at (see docs/deploy-and-validation.md). */
const ROOT_PATH = "./clusters/dev";
const BUCKET_SOURCE = { kind: "Bucket", name: "flux-bucket" };

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, any> };

async function build(fluxPath: string): Promise<Manifest[]> {
    const result = await kustomizeBuild(path.join(DEPLOY_DIR, fluxPath));
    assert.ok(result.ok, result.ok ? "" : result.error);
    return parseYamlText(fluxPath, result.yaml).documents as Manifest[];
}

/** What Flux would end up applying from ROOT_PATH: follows each Flux Kustomization's spec.path. */
async function applyLikeFlux(): Promise<Manifest[]> {
    const applied: Manifest[] = [];
    const pending = [ROOT_PATH];
    for (let fluxPath = pending.shift(); fluxPath !== undefined; fluxPath = pending.shift()) {
        for (const object of await build(fluxPath)) {
            applied.push(object);
            if (object.kind === "Kustomization" && object.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/")) pending.push(object.spec.path);
        }
    }
    return applied;
}

describe("deploy/", () => {
    it("passes validateTree", async () => {
        await validateTree(DEPLOY_DIR);
    });

    it(`${ROOT_PATH} holds the Flux Kustomizations: infrastructure-controllers, then apps, both from the bucket`, async () => {
        const objects = await build(ROOT_PATH);
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

    it("ends up installing ingress-nginx and podinfo, with podinfo's ingress on ingress-nginx's class", async () => {
        const releases = (await applyLikeFlux())
            .filter((object) => object.kind === "HelmRelease")
            .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
        assert.deepEqual(
            releases.map(({ metadata, spec }) => `${metadata.namespace}/${metadata.name}: ${spec.chart.spec.chart}@${spec.chart.spec.version}`),
            ["ingress-nginx/ingress-nginx: ingress-nginx@4.15.1", "podinfo/podinfo: podinfo@6.15.0"],
        );
        const [ingressNginx, podinfo] = releases;
        assert.equal(podinfo.spec.values.ingress.className, ingressNginx.spec.values.controller.ingressClassResource.name);
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
