// Writes src/validate/crds/*.json: the openAPIV3Schema of each version of the CRDs that Flux 2.8.8 installs beyond
// what @kubernetes-models/flux-cd models (ExternalArtifact, ArtifactGenerator) and of Flux Operator's kinds, taken
// from the projects' published releases (descriptions dropped). Run with a git directory of each project:
//   node scripts/vendorCrdSchemas.ts <source-controller.git> <source-watcher.git> <flux-operator.git>
// (fetched mirrors; nothing here reaches the network).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const [sourceController, sourceWatcher, fluxOperator] = process.argv.slice(2);
const sources = [
    { git: sourceController, repo: "fluxcd/source-controller", tag: "v1.8.5", file: "config/crd/bases/source.toolkit.fluxcd.io_externalartifacts.yaml" },
    // flux2 v2.8.8 manifests/bases/source-watcher/kustomization.yaml installs source-watcher v2.1.1's CRDs.
    { git: sourceWatcher, repo: "fluxcd/source-watcher", tag: "v2.1.1", file: "config/crd/bases/source.extensions.fluxcd.io_artifactgenerators.yaml" },
    ...["fluxinstances", "resourcesets", "resourcesetinputproviders", "fluxreports"].map((name) => ({
        git: fluxOperator,
        repo: "controlplaneio-fluxcd/flux-operator",
        tag: "v0.58.1",
        file: `config/crd/bases/fluxcd.controlplane.io_${name}.yaml`,
    })),
];

function strip(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== "description").map(([key, inner]) => [key, strip(inner)]));
}

for (const { git, repo, tag, file } of sources) {
    const text = execFileSync("git", [`--git-dir=${git}`, "show", `${tag}:${file}`], { encoding: "utf8" });
    const [crd] = parseAllDocuments(text).map((document) => document.toJS());
    const out = {
        source: `https://github.com/${repo}/blob/${tag}/${file}`,
        group: crd.spec.group,
        kind: crd.spec.names.kind,
        versions: crd.spec.versions.map((version: { name: string; schema: { openAPIV3Schema: unknown } }) => ({
            name: version.name,
            schema: strip(version.schema.openAPIV3Schema),
        })),
    };
    const target = path.join(import.meta.dirname, "../src/validate/crds", `${crd.spec.group}_${crd.spec.names.plural}.json`);
    writeFileSync(target, `${JSON.stringify(out)}\n`);
    console.log(target, out.versions.map((v: { name: string }) => v.name).join(","));
}
