import assert from "node:assert/strict";
import path from "node:path";
import { kustomizeBuild, parseYamlText } from "../../src/validate/index.ts";

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, any> };

/** `kustomize build` of one folder of `root`, parsed. */
export async function build(root: string, fluxPath: string): Promise<Manifest[]> {
    const result = await kustomizeBuild(path.join(root, fluxPath));
    assert.ok(result.ok, result.ok ? "" : result.error);
    return parseYamlText(fluxPath, result.yaml).documents as Manifest[];
}

/**
 * What Flux would end up applying from `rootPath` of an artifact unpacked at `artifact`: follows each
 * Flux Kustomization's spec.path, resolved from the artifact's root as Flux does.
 */
export async function applyLikeFlux(artifact: string, rootPath: string): Promise<Manifest[]> {
    const applied: Manifest[] = [];
    const pending = [rootPath];
    for (let fluxPath = pending.shift(); fluxPath !== undefined; fluxPath = pending.shift()) {
        for (const object of await build(artifact, fluxPath)) {
            applied.push(object);
            if (object.kind === "Kustomization" && object.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/")) pending.push(object.spec.path);
        }
    }
    return applied;
}

/** The HelmReleases among `objects`, sorted by name. */
export function releases(objects: Manifest[]): Manifest[] {
    return objects.filter((object) => object.kind === "HelmRelease").sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** `namespace/name: chart@version` of a HelmRelease. */
export function chartOf({ metadata, spec }: Manifest): string {
    return `${metadata.namespace}/${metadata.name}: ${spec.chart.spec.chart}@${spec.chart.spec.version}`;
}
