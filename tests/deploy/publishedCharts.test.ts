import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { FLUX2_CHART } from "../../components/flux/install.ts";
import { declarations } from "../../stacks/config/declarations.ts";
import { listYamlFiles, parseYamlFile } from "../../src/validate/index.ts";
import type { Manifest } from "./applyLikeFlux.ts";
import { DEPLOY_DIR } from "../validate/expectProblems.ts";

// What each chart repository publishes, read from the repository itself (its index.yaml, or its release tags);
// publishedCharts.json says where, for each. helm-controller can only install a version that is listed there.
const published: Record<string, { checked: string; charts: Record<string, string[]> }> = JSON.parse(
    readFileSync(path.join(import.meta.dirname, "publishedCharts.json"), "utf8"),
);

function isPublished(url: string, chart: string, version: string): boolean {
    return published[url]?.charts[chart]?.includes(version) ?? false;
}

/** Every HelmRelease of a tree that names its chart (not a patch) with the URL of its HelmRepository (same tree). */
async function pins(root: string): Promise<{ where: string; url: string; chart: string; version: string }[]> {
    const objects = (await Promise.all((await listYamlFiles(root)).map(parseYamlFile))).flatMap(({ file, documents }) =>
        (documents as Manifest[]).map((object) => ({ file: path.relative(root, file), object })),
    );
    const repositories = new Map(
        objects.filter(({ object }) => object.kind === "HelmRepository").map(({ object }) => [`${object.metadata.namespace}/${object.metadata.name}`, object.spec.url as string]),
    );
    return objects
        .filter(({ object }) => object.kind === "HelmRelease" && object.spec.chart !== undefined)
        .map(({ file, object }) => {
            const { chart, version, sourceRef } = object.spec.chart.spec;
            const url = repositories.get(`${sourceRef.namespace ?? object.metadata.namespace}/${sourceRef.name}`);
            assert.ok(url, `${file}: HelmRelease/${object.metadata.name} names a HelmRepository that is not in the tree`);
            return { where: `${file}: HelmRelease/${object.metadata.name}`, url, chart, version };
        });
}

describe("every chart version pinned is one its repository publishes", () => {
    for (const root of [DEPLOY_DIR, path.join(import.meta.dirname, "fixtures/prod")]) {
        it(`${path.relative(path.resolve(import.meta.dirname, "../.."), root)}/`, async () => {
            const found = await pins(root);
            assert.ok(found.length >= 2, `expected the tree's HelmReleases, found ${found.length}`);
            for (const { where, url, chart, version } of found) {
                assert.ok(isPublished(url, chart, version), `${where}: ${chart} ${version} is not published at ${url}`);
            }
        });
    }

    it("the flux stack's default flux2 chart", () => {
        assert.ok(isPublished(FLUX2_CHART.repo, FLUX2_CHART.chart, declarations.fluxChartVersion.default));
    });

    it("the record itself would catch an unpublished pin (podinfo 6.15.0 was pinned once)", () => {
        assert.equal(isPublished("https://stefanprodan.github.io/podinfo", "podinfo", "6.15.0"), false);
        assert.equal(isPublished("https://stefanprodan.github.io/podinfo", "podinfo", "6.14.1"), true);
    });
});
