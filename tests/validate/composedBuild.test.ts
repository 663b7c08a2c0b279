import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { availableParallelism } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { composedObjects } from "../../src/validate/builds.ts";
import { readKustomizations } from "../../src/validate/tree.ts";
import { isKustomizationFile } from "../../src/validate/kustomizationFile.ts";
import { listYamlFiles, parseYamlFile, parseYamlStream } from "../../src/validate/yamlFiles.ts";
import pLimit from "p-limit";
import { writeTree } from "../support/trees.ts";

const builds = pLimit(availableParallelism());

/** A small deterministic PRNG (mulberry32), so a failing tree can be generated again from its seed. */
function random(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const KINDS = [
    ["v1", "ConfigMap"],
    ["v1", "Secret"],
    ["v1", "Namespace"],
    ["apps/v1", "Deployment"],
    ["source.toolkit.fluxcd.io/v1", "HelmRepository"],
];

/**
 * A tree of kustomizations that list resources, with the cases where kustomize's build is not simply the listed
 * objects mixed in: a shared base included twice, a name used twice, one name in two namespaces, a namespace or
 * label transformer, a List, YAML anchors and aliases, a YAML 1.1 octal, empty documents and several documents a file.
 */
function generateTree(seed: number): Record<string, string> {
    const next = random(seed);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const files: Record<string, string> = {};
    const object = (name: string) => {
        const [apiVersion, kind] = pick(KINDS);
        const namespace = kind === "Namespace" ? "" : pick(["", "", "default", "apps"]);
        const body =
            kind === "Deployment"
                ? "spec:\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers: [{name: c, image: nginx}]\n"
                : kind === "HelmRepository"
                  ? "spec:\n  url: https://charts.example.com\n  interval: 1h\n"
                  : kind === "Namespace"
                    ? ""
                    : "data:\n  key: value\n";
        return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}${body}`;
    };
    const folders = ["base", "a", "b", "a/nested"];
    for (const folder of folders) {
        const resources: string[] = [];
        for (let i = 0; i < 1 + Math.floor(next() * 3); i++) {
            const file = `${folder.replaceAll("/", "-")}-${i}.yaml`;
            const name = next() < 0.15 ? "same" : `${folder.replaceAll("/", "-")}-${i}`;
            const documents = [object(name)];
            if (next() < 0.3) documents.push(object(`${name}-second`));
            let text = documents.join("---\n");
            if (next() < 0.1) text = `---\n${text}---\n`;
            if (next() < 0.08) text = text.replace("data:\n  key: value\n", "data: &shared\n  key: value\n");
            // A YAML 1.1 octal, which go-yaml (and so kustomize's output) reads as 493, and an alias of an anchor.
            if (next() < 0.08) text = text.replace("data:\n  key: value\n", "data:\n  key: value\n  mode: 0755\n");
            if (next() < 0.1) text += `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}-alias\n  labels: &labels {a: b}\n  annotations: *labels\n`;
            if (next() < 0.06) text = `apiVersion: v1\nkind: List\nitems:\n- ${object(name).replaceAll("\n", "\n  ").trimEnd()}\n`;
            files[`${folder}/${file}`] = text;
            resources.push(file);
        }
        if (folder === "a") resources.push("nested");
        if ((folder === "a" || folder === "b") && next() < 0.5) resources.push("../base");
        const extra = next() < 0.1 ? pick(["namespace: apps\n", "commonLabels:\n  team: x\n", "namePrefix: p-\n"]) : "";
        files[`${folder}/kustomization.yaml`] = `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${extra}resources:\n${resources.map((r) => `  - ${r}\n`).join("")}`;
    }
    files["kustomization.yaml"] = `resources:\n  - a\n${next() < 0.5 ? "  - b\n" : ""}`;
    return files;
}

/** Each object as a canonical JSON string (keys sorted), sorted: the build as a multiset, whatever its order. */
function canonical(objects: unknown[]): string[] {
    const sortKeys = (value: unknown): unknown =>
        Array.isArray(value)
            ? value.map(sortKeys)
            : value && typeof value === "object"
              ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]))
              : value;
    return objects.map((object) => JSON.stringify(sortKeys(object))).sort();
}

async function kubectlKustomize(dir: string): Promise<unknown[] | undefined> {
    try {
        const { stdout } = await promisify(execFile)("kubectl", ["kustomize", "--load-restrictor=LoadRestrictionsNone", dir], { encoding: "utf8" });
        return parseYamlStream(stdout);
    } catch {
        return undefined;
    }
}

test("a build composed without kustomize is exactly what kubectl kustomize outputs (30 generated trees)", async (t) => {
    let composed = 0;
    let declined = 0;
    const checks: Promise<void>[] = [];
    for (let seed = 1; seed <= 30; seed++) {
        const root = writeTree(generateTree(seed));
        const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
        const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
        const parsed = new Map(parsedFiles.filter(({ file }) => !isKustomizationFile(file)).map((file) => [file.file, file]));
        for (const kustomization of kustomizations.values()) {
            const ours = composedObjects(kustomization, kustomizations, parsed);
            if (ours === undefined) {
                declined++;
                continue;
            }
            composed++;
            const where = `seed ${seed}, ${path.relative(root, kustomization.dir) || "."}`;
            checks.push(
                builds(async () => {
                    const theirs = await kubectlKustomize(kustomization.dir);
                    assert.ok(theirs, `${where}: composed, but kubectl kustomize fails`);
                    assert.deepEqual(canonical(ours), canonical(theirs), where);
                }),
            );
        }
    }
    await Promise.all(checks);
    t.diagnostic(`composed ${composed}, declined ${declined}`);
    // Both paths are exercised: most kustomizations compose, and the mixed-in cases make some fall back.
    assert.ok(composed >= 60 && declined >= 20, `composed ${composed}, declined ${declined}`);
});

const MORE_KINDS = [
    ["v1", "ConfigMap", "data:\n  key: value\n"],
    ["v1", "Service", "spec:\n  ports: [{port: 80}]\n"],
    ["v1", "Namespace", ""],
    ["apps/v1", "Deployment", "spec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n"],
    ["rbac.authorization.k8s.io/v1", "ClusterRole", "rules: []\n"],
    ["rbac.authorization.k8s.io/v1", "RoleBinding", "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: default}]\n"],
    ["cert-manager.io/v1", "ClusterIssuer", "spec:\n  selfSigned: {}\n"],
    ["helm.toolkit.fluxcd.io/v2", "HelmRelease", "spec:\n  interval: 1h\n  values:\n    list: [a, b]\n    map: {k: v}\n"],
    ["gateway.networking.k8s.io/v1", "HTTPRoute", "spec:\n  hostnames: [\"${APP}.example.com\"]\n"],
    ["storage.k8s.io/v1", "CSIDriver", "spec: {}\n"],
    ["helm.toolkit.fluxcd.io/v2", "HelmRelease", "spec:\n  interval: 1h\n  values:\n    text: >-\n      folded\n        more indented\n"],
];

const PATCHES = [
    "  - target: {kind: HelmRelease}\n    patch: |-\n      kind: HelmRelease\n      metadata: {name: x, namespace: y, labels: {patched: \"1\"}}\n      spec: {interval: 5m, values: {list: [1], map: {}}, empty: []}\n",
    "  - target: {group: gateway.networking.k8s.io, kind: HTTPRoute}\n    patch: |-\n      apiVersion: gateway.networking.k8s.io/v1\n      kind: HTTPRoute\n      metadata: {name: x}\n      spec: {hostnames: [a.example.com], rules: [{name: r}]}\n",
    "  - target: {kind: HelmRelease, labelSelector: team=x}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: {team: x, list: [c]}}}'\n",
    "  - target: {kind: HelmRelease, labelSelector: 'team!=x'}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: {team: other}}}'\n",
    "  - target: {kind: HelmRelease, labelSelector: '!team'}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: {team: none}}}'\n",
    "  - target: {kind: ConfigMap}\n    patch: 'data: {patched: \"yes\"}'\n",
    "  - target: {kind: HelmRelease, name: app-0}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: {one: 1}}}'\n",
    "  - target: {kind: HelmRelease}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: null}}'\n",
    "  - target: {kind: ClusterIssuer}\n    patch: '{kind: ClusterIssuer, metadata: {name: _}, spec: {selfSigned: {crlDistributionPoints: [x]}}}'\n",
    "  - patch: 'apiVersion: helm.toolkit.fluxcd.io/v2\n\n      kind: HelmRelease\n\n      metadata: {name: app-0}\n\n      spec: {suspend: true}'\n",
    "  - path: patch.yaml\n    target: {kind: HelmRelease}\n",
    "  - target: {kind: HelmRelease}\n    patch: 'spec: {suspend: true}'\n",
];

/**
 * Trees whose kustomizations set a namespace, generate ConfigMaps (files, `key=file`, literals with and without
 * quotes, a hash suffix, a bad key, a duplicate key, a non-UTF-8 file, a behavior, generatorOptions and a
 * generator's options with labels and annotations, both and either, `immutable`, an empty map) and patch (inline and from a file,
 * targets by kind, group, name and label selector, built-in kinds, a null, no target), over objects that the
 * namespace transformer places, leaves alone, renames (a Namespace) or changes elsewhere (RoleBinding subjects); and
 * a Flux Kustomization with spec.patches (and a targetNamespace) over one of them.
 */
function generateNamespacedTree(seed: number): Record<string, string> {
    const next = random(seed);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const files: Record<string, string> = {};
    for (const folder of ["base", "app", "app/nested", "plain"]) {
        const resources: string[] = [];
        for (let i = 0; i < 1 + Math.floor(next() * 3); i++) {
            const [apiVersion, kind, body] = i === 0 && next() < 0.8 ? MORE_KINDS[7] : next() < 0.7 ? MORE_KINDS[i % 4 === 2 ? 0 : [0, 1, 3, 7, 7, 8][Math.floor(next() * 6)]] : pick(MORE_KINDS);
            const name = kind === "HelmRelease" && next() < 0.3 ? "app-0" : `${folder.replaceAll("/", "-")}-${i}`;
            const namespace = (next() < 0.3 ? "  namespace: elsewhere\n" : "") + (next() < 0.4 ? `  labels: {team: ${pick(["x", "y"])}}\n` : "");
            const file = `${name}.yaml`;
            files[`${folder}/${file}`] = `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n${namespace}${body}`;
            resources.push(file);
        }
        if (folder === "plain") continue; // Flux generates its kustomization
        if (folder === "app") resources.push("nested");
        if (folder === "app" && next() < 0.5) resources.push("../base");
        files[`${folder}/values.yaml`] = `replicas: ${seed}\nname: "é ${folder}"\n`;
        if (next() < 0.1) files[`${folder}/binary.txt`] = "\u00ff\u00fe";
        let kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}\n`).join("")}`;
        if (next() < 0.5) kustomization += `namespace: ${pick(["team-a", "team-b", "${NS}"])}\n`;
        if (next() < 0.4) {
            const sources = [
                pick(["files: [values.yaml]", "files: [values.yaml]", "files: [conf=values.yaml]", "files: [conf=values.yaml]", "files: [values.yaml, other=values.yaml]", "files: [values.yaml, values.yaml]", "files: [binary.txt]", "files: [bad key=values.yaml]"]),
                pick(["literals: [a=1]", "literals: [b=\"quoted\", c='single', d=x=y]", "literals: [\"e= spaced \"]", ""]),
            ].filter(Boolean);
            const options = pick(["  options: {disableNameSuffixHash: true}\n", "  options: {disableNameSuffixHash: true, labels: {own: x, shared: local}, annotations: {note: own}}\n", "  options: {labels: {own: x}}\n", "", "", "", "", "  behavior: merge\n"]);
            kustomization += `configMapGenerator:\n  - name: ${folder.replaceAll("/", "-")}-values\n${next() < 0.3 ? "    namespace: gen\n" : ""}${sources.map((source) => `    ${source}\n`).join("")}${options.replace(/^  /, "    ")}`;
            if (next() < 0.8) {
                kustomization += pick([
                    "generatorOptions:\n  disableNameSuffixHash: true\n",
                    "generatorOptions:\n  disableNameSuffixHash: true\n",
                    "generatorOptions:\n  disableNameSuffixHash: true\n  labels: {shared: global, grafana_dashboard: \"true\"}\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
                    "generatorOptions:\n  annotations: {a: b}\n",
                    "generatorOptions:\n  disableNameSuffixHash: true\n  immutable: true\n",
                    "generatorOptions:\n  disableNameSuffixHash: true\n  labels: {}\n",
                ]);
            }
        }
        if (next() < 0.7) {
            files[`${folder}/patch.yaml`] = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ignored\nspec:\n  values:\n    from: file\n";
            // Mostly patches that compose; a fifth of them one that kustomize refuses or that is declined.
            const patch = () => (next() < 0.8 ? pick(PATCHES.filter((_, i) => ![5, 7, 9, 11].includes(i))) : pick(PATCHES));
            kustomization += `patches:\n${[patch(), ...(next() < 0.3 ? [patch()] : [])].join("")}`;
        }
        files[`${folder}/kustomization.yaml`] = kustomization;
    }
    // A Flux Kustomization whose spec.patches and targetNamespace apply over ./app.
    const fluxPatches = [pick(PATCHES), pick(PATCHES)].filter((patch) => !patch.includes("path:")).join("").replaceAll("\n", "\n    ");
    files["flux/apps.yaml"] =
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  interval: 1h\n  prune: true\n  sourceRef: {kind: Bucket, name: b}\n  path: ./app\n" +
        `${next() < 0.5 ? "  targetNamespace: flux-target\n" : ""}  patches:\n    ${fluxPatches || "- target: {kind: HelmRelease}\n      patch: 'spec: {suspend: true}'\n"}`;
    return files;
}

test("namespaces, ConfigMap generators, patches, Flux's generated kustomization, targetNamespace and spec.patches compose exactly as kubectl kustomize builds them (40 generated trees)", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    let composed = 0;
    let declined = 0;
    const mismatches: string[] = [];
    await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
            const result = await compareTree(writeTree(generateNamespacedTree(i + 1)));
            composed += result.composed;
            declined += result.declined;
            mismatches.push(...result.mismatches.map((mismatch) => `seed ${i + 1}: ${mismatch}`));
        }),
    );
    t.diagnostic(`composed ${composed}, declined ${declined}`);
    assert.deepEqual(mismatches, []);
    assert.ok(composed >= 100 && declined >= 100, `composed ${composed}, declined ${declined}`);
});

test("the fleet's and deploy/'s patterns compose, each exactly as kubectl kustomize builds it", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const helmRelease = (name: string, labels: string) =>
        `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${name}\n${labels}spec:\n  interval: 1h\n  values:\n    list: [a]\n    keep: 1\n`;
    const root = writeTree({
        // deploy/'s apps/dev: a base, and a strategic-merge patch from a file by kind and name.
        "base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - release.yaml\n  - other.yaml\n  - unlabelled.yaml\n",
        "base/release.yaml": helmRelease("podinfo", "  namespace: podinfo\n  labels: {team: y}\n"),
        "base/other.yaml": helmRelease("other", "  labels: {team: x}\n"),
        "base/unlabelled.yaml": helmRelease("unlabelled", ""),
        "dev/kustomization.yaml": "resources:\n  - ../base\npatches:\n  - path: values.yaml\n    target:\n      kind: HelmRelease\n      name: podinfo\n",
        "dev/values.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: podinfo\nspec:\n  values:\n    list: [b, c]\n    ingress:\n      hosts:\n        - host: podinfo.example.com\n          paths: [{path: /, pathType: Prefix}]\n",
        // Label selectors: `!=` also selects an object without the label, `!key` only those.
        "labels/kustomization.yaml":
            "resources: [../base]\npatches:\n  - target: {kind: HelmRelease, labelSelector: 'team!=x'}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: {notx: true}}}'\n" +
            "  - target: {kind: HelmRelease, labelSelector: '!team'}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: {none: true}}}'\n" +
            // A target that selects nothing (onedr0p/home-ops' HelmRelease defaults over an app without one): no change.
            "  - target: {group: helm.toolkit.fluxcd.io, kind: HelmRelease, name: nothing-has-this-name}\n    patch: '{apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, metadata: {name: _}, spec: {install: {crds: CreateReplace}}}'\n",
        // The fleet: an app folder with a namespace and ConfigMap generators (generatorOptions with labels and
        // annotations, as bjw-s/home-ops' Grafana dashboards; a generator's own label wins), under a Flux
        // Kustomization with a targetNamespace.
        "app/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team-a\nresources:\n  - release.yaml\nconfigMapGenerator:\n  - name: ${APP}-values\n    files: [values.yaml]\n  - name: dashboard\n    files: [values.yaml]\n    options: {labels: {grafana_dashboard: \"false\", own: x}}\n" +
            "generatorOptions:\n  disableNameSuffixHash: true\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n  labels:\n    grafana_dashboard: \"true\"\n",
        "app/release.yaml": helmRelease("${APP}", ""),
        "app/values.yaml": "replicaCount: 2\n",
        // The fleet's parent: Flux Kustomizations in a folder without a kustomization.yaml, patched with defaults.
        "apps/ks.yaml":
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: flux-system\nspec:\n  path: ./app\n  targetNamespace: team-b\n  sourceRef: {kind: Bucket, name: b}\n  postBuild:\n    substitute: {APP: app}\n" +
            "  patches:\n    - target: {kind: HelmRelease}\n      patch: '{kind: HelmRelease, metadata: {name: _}, spec: {interval: 5m}}'\n",
        "clusters/apps.yaml":
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef: {kind: Bucket, name: b}\n" +
            "  patches:\n    - patch: |-\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata:\n          name: all\n        spec:\n          interval: 30m\n          postBuild:\n            substituteFrom:\n              - kind: ConfigMap\n                name: cluster-settings\n      target:\n        kind: Kustomization\n",
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // base, dev, labels and app, each also under a targetNamespace; apps and clusters generated, each also under one;
    // the two Flux Kustomizations with spec.patches: every one composes.
    assert.deepEqual([result.composed, result.declined], [14, 0]);
});

test("deploy/ and the bench's fleet tree validate without running kubectl: every build they need composes", async () => {
    const { validateTree } = await import("../../src/validate/tree.ts");
    const { writeFleetTree } = await import("../support/fleetTrees.ts");
    const fleet = writeFleetTree(mkdtempSync(path.join(tmpdir(), "bucketops-fleet-")));
    const before = process.env.KUBECTL;
    // A kubectl that cannot start: any build left to it would fail the validation.
    process.env.KUBECTL = path.join(tmpdir(), "no-such-kubectl");
    try {
        assert.equal((await validateTree(path.resolve(import.meta.dirname, "../../deploy"))).mode, "flux");
        assert.equal((await validateTree(fleet.root)).mode, "flux");
    } finally {
        if (before === undefined) delete process.env.KUBECTL;
        else process.env.KUBECTL = before;
        rmSync(fleet.root, { recursive: true, force: true });
    }
});

/**
 * Scalars go-yaml v3 (kustomize's reader) reads as this project's parser does, and ones it reads otherwise, each in a
 * ConfigMap a kustomization lists: "same" must compose and equal kubectl's build; "differs" must be declined, and
 * kubectl's value really differs (the decline is needed); "declined" is declined without that proof (not certain);
 * "go" (a number go-yaml reads otherwise, a folded scalar kustomize writes back otherwise) must compose with go-yaml's
 * value, which kubectl's build has and YAML 1.2's reading has not.
 */
const SCALARS: [string, "same" | "differs" | "declined" | "go", string][] = [
    ["folded", "same", ">\n    a b\n    c\n"],
    ["folded-strip", "same", ">-\n    a b\n    c\n"],
    ["folded-blank-lines", "same", ">\n    a\n\n    b\n\n\n    c\n"],
    ["folded-leading-blank", "same", ">\n\n    a\n    b\n"],
    ["folded-trailing-blank-clip", "same", ">\n    a\n    b\n\n\n"],
    ["folded-trailing-blank-strip", "same", ">-\n    a\n    b\n\n\n"],
    ["folded-blank-lines-with-spaces", "same", ">\n    a\n  \n    b\n   \n\n    c\n"],
    ["folded-indicator", "same", ">2\n    a\n    b\n"],
    ["folded-indicator-strip", "same", ">-2\n    a\n    b\n"],
    ["folded-comment-after-header", "same", "> # a comment\n    a\n    b\n  # a comment after\n"],
    ["folded-comment-after-blank", "same", ">\n    a\n\n  # a comment after a blank line\n\n"],
    ["folded-tab-inside", "same", ">\n    a\tb\n    c  \n    d\n"],
    // kustomize's value of a folded scalar with a more-indented line (go-yaml's writer doubles the line break before
    // it: yamlFiles.ts, kustomizeFolded), as xunholy/k8s-gitops' and onedr0p/home-ops' MutatingAdmissionPolicies have.
    ["folded-more-indented", "go", ">-\n    first line\n      more indented\n    last\n"],
    ["folded-more-indented-clip", "go", ">\n    first\n      more\n"],
    ["folded-more-indented-several", "go", ">\n    a\n      b\n      c\n    d\n\n      e\n    f\n"],
    ["folded-more-indented-blank-around", "go", ">-\n    a\n\n      b\n\n    c\n"],
    ["folded-more-indented-long", "go", ">\n    word00 word01 word02 word03 word04 word05 word06 word07 word08 word09 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29\n      more\n    word00 word01 word02 word03 word04 word05 word06 word07 word08 word09 word10 word11 word12 word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 word25 word26 word27 word28 word29\n"],
    ["folded-more-indented-comment", "go", "> # comment\n    a\n      b\n    c\n"],
    ["folded-trailing-space-more-indented", "declined", ">\n    a \n      b\n"],
    ["folded-more-indented-unicode", "declined", ">\n    é\n      b\n"],
    ["folded-keep", "differs", ">+\n    a\n    b\n\n"],
    ["folded-indicator-more-indented-first", "declined", ">2\n     x\n    y\n"],
    ["literal-keep", "same", "|+\n    a\n\n\n"],
    ["literal", "same", "|\n    a\n      b\n"],
    ["octal", "go", "0755"],
    ["octal-quoted", "same", "'0755'"],
    ["underscore", "go", "1_000"],
    ["binary", "go", "0b101"],
    ["binary-negative", "go", "-0b101"],
    ["hex-underscore", "go", "0x_1F"],
    ["hex-signed", "go", "-0x1F"],
    ["float-underscore", "go", "1_000.5"],
    ["exponent-underscore", "go", "1e+1_0"],
    ["octal-in-list", "go", "[0755, 1_0, x]"],
    ["octal-8", "same", "089"],
    ["octal-key", "declined", "{0755: x}"],
    ["not-a-number", "same", "1_a"],
    // Keys and values that start like numbers and are none for go-yaml (xunholy/k8s-gitops' `01-wait-db:`).
    ["number-like-key", "same", "{01-wait-db: a, 025-module-sql: b, 0x1G: c, 1e3x: d}"],
    ["timestamp-like", "same", "2001-12-14x"],
    ["too-large", "declined", "0777777777777777777777"],
    ["not-a-tag", "same", "'x != y and !z'"],
    ["line-separator", "differs", "'a\u2028b'"],
    ["tag", "declined", "!!str 12"],
];

test("block scalars, numbers, tags and merge keys: composed where go-yaml reads them as this parser does or its value is certain, declined where not", async () => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const { composeBuild } = await import("../../src/validate/compose.ts");
    const files: Record<string, string> = {};
    for (const [name, , scalar] of SCALARS) {
        files[`${name}/kustomization.yaml`] = "resources: [cm.yaml]\n";
        files[`${name}/cm.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: ${scalar}${scalar.endsWith("\n") ? "" : "\n"}  other: x\n`;
    }
    // A block scalar that ends the file without a final line break: go-yaml clips no line break there.
    files["literal-at-end/kustomization.yaml"] = "resources: [cm.yaml]\n";
    files["literal-at-end/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: literal-at-end\ndata:\n  value: |\n    end";
    // Merge keys (billimek/k8s-gitops' `<<: *labels` in a ServiceMonitor): one map, before and after the map's own
    // keys, chained, in place; and a list of maps, where kustomize lets the later map win (after an alias of a merged map).
    const merges: Record<string, string> = {
        "merge-one-map": "metadata:\n  name: &app merge-one-map\n  labels: &labels {app: *app, team: x}\nspec:\n  selector:\n    <<: *labels\n    extra: x\n  before:\n    team: own\n    <<: *labels\n  after:\n    <<: *labels\n    team: own\n  chained: &chained\n    <<: *labels\n    c: 1\n  again:\n    <<: *chained\n    app: own\n  inPlace:\n    <<: {p: 1}\n    q: 2\n  nulled:\n    <<: *labels\n    team: null\n",
        "merge-list": "metadata:\n  name: merge-list\nbase: &base {a: 1, b: 1}\nnested: &nested\n  <<: *base\n  c: 1\nspec:\n  multi:\n    <<: [*nested, {a: 9, z: 9}]\n",
    };
    for (const [name, body] of Object.entries(merges)) {
        files[`${name}/kustomization.yaml`] = "resources: [sm.yaml]\n";
        files[`${name}/sm.yaml`] = `apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n${body}`;
    }
    const root = writeTree(files);
    const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const sources = { kustomizations, parsed: new Map(parsedFiles.map((file) => [file.file, file])) };
    const expected: [string, string][] = [
        ...SCALARS.map(([name, expect]) => [name, expect] as [string, string]),
        ["literal-at-end", "differs"],
        ["merge-one-map", "same"],
        ["merge-list", "differs"],
    ];
    await Promise.all(
        expected.map(([name, expect]) =>
            builds(async () => {
                const dir = path.join(root, name);
                const ours = await composeBuild(dir, sources);
                const composes = expect === "same" || expect === "go";
                assert.equal(ours !== undefined, composes, `${name}: ${composes ? "not composed" : "composed"}`);
                if (expect !== "differs" && expect !== "go") return;
                const theirs = await kubectlKustomize(dir);
                assert.ok(theirs, name);
                const read = sources.parsed.get(path.join(dir, name.startsWith("merge") ? "sm.yaml" : "cm.yaml"))!.documents;
                assert.notDeepEqual(canonical(read), canonical(theirs), `${name}: kubectl reads it as this parser does: ${expect === "go" ? "go-yaml's number" : "the decline"} is not needed`);
            }),
        ),
    );
    const result = await compareTree(root);
    assert.deepEqual(result.mismatches, []);
    assert.equal(result.composed, 2 * (SCALARS.filter(([, expect]) => expect === "same" || expect === "go").length + 1));
});

test("a patched object loses its empty null fields (through maps, not in lists), as kubectl kustomize builds it; a written null stays", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const { composeBuild } = await import("../../src/validate/compose.ts");
    const patch = "patches:\n  - target: {kind: HelmRelease}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {install: {crds: CreateReplace}, touched: {t: 1}}}'\n";
    // billimek/k8s-gitops' and xunholy/k8s-gitops' HelmReleases with `values:` left empty, under a patch of every
    // HelmRelease: empty nulls go, nested ones too (a map left empty stays `{}`), list items keep theirs, a null the
    // patch sets a map on takes it; an object the patch does not select keeps its nulls.
    const release = (name: string, extra = "") =>
        `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${name}\n  labels:\n    empty:\nspec:\n  interval: 1h\n  values:\n  nested:\n    inner:\n    deeper:\n      x:\n    keep: 1\n  emptymap: {}\n  emptylist: []\n  list:\n    - a:\n      b: 1\n    - c:\n        d:\n    -\n  touched:\n  str: ""\n${extra}`;
    const root = writeTree({
        "app/kustomization.yaml": `resources: [release.yaml, other.yaml]\n${patch}`,
        "app/release.yaml": release("app"),
        "app/other.yaml": "apiVersion: example.com/v1\nkind: Other\nmetadata:\n  name: other\nspec:\n  values:\n",
        // A written null (`~`, `null`, `Null`) stays in kustomize's merge (billimek/k8s-gitops' `cpu: null`); one
        // under a merge key is left to kustomize.
        "written/kustomization.yaml": `resources: [release.yaml]\n${patch}`,
        "written/release.yaml": release("written", "  tilde: ~\n  word: null\n  capital: Null\n  deep:\n    word: null\n    empty:\n"),
        "merged/kustomization.yaml": `resources: [release.yaml]\n${patch}`,
        "merged/release.yaml": release("merged", "  defaults: &defaults\n    a: 1\n    gone:\n  merged:\n    <<: *defaults\n    b: 2\n"),
        // Flux's spec.patches over a path (billimek/k8s-gitops' root): the same merge.
        "flux/ks.yaml":
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n  sourceRef: {kind: Bucket, name: b}\n" +
            "  patches:\n    - target: {kind: HelmRelease}\n      patch: '{kind: HelmRelease, metadata: {name: _}, spec: {interval: 5m}}'\n",
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // app (as it is, under a targetNamespace, and under the Flux patches), written (twice) and flux/ as Flux's
    // generated kustomization (twice) compose; merged (twice) does not.
    assert.deepEqual([result.composed, result.declined], [7, 2]);
    const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const composed = await composeBuild(path.join(root, "app"), { kustomizations, parsed: new Map(parsedFiles.map((file) => [file.file, file])) });
    const spec = (composed?.find(({ object }) => object.kind === "HelmRelease")?.object as { spec: Record<string, unknown> }).spec;
    assert.deepEqual(spec.nested, { deeper: {}, keep: 1 });
    assert.deepEqual(spec.list, [{ a: null, b: 1 }, { c: { d: null } }, null]);
    assert.equal("values" in spec, false);
    assert.deepEqual((composed?.find(({ object }) => object.kind === "Other")?.object as { spec: unknown }).spec, { values: null });
    const written = await composeBuild(path.join(root, "written"), { kustomizations, parsed: new Map(parsedFiles.map((file) => [file.file, file])) });
    const writtenSpec = (written?.[0].object as { spec: Record<string, unknown> }).spec;
    assert.deepEqual([writtenSpec.tilde, writtenSpec.word, writtenSpec.capital, writtenSpec.deep], [null, null, null, { word: null }]);
});

test("patchesStrategicMerge files of custom resources compose, each patch merged into the object of its id, as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const release = (name: string, namespace: string) =>
        `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}spec:\n  interval: 1h\n  values:\n    list: [a]\n    env:\n      A: "1"\n`;
    const patch = (name: string, namespace: string, values: string) =>
        `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}spec:\n  values:\n${values}`;
    const app = (extra: string, more = "") => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - release.yaml\n  - secret.yaml\n${more}${extra}`;
    const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: downloads\nstringData:\n  URL: x\n";
    const root = writeTree({
        // toboshii/home-ops' apps: a HelmRelease patched from a file (an init container and env from a Secret), with
        // the app's namespace, and a second file with two patches, one of an object in the default namespace.
        "app/kustomization.yaml": app("namespace: downloads\npatchesStrategicMerge:\n  - patches/postgres.yaml\n  - ./patches/more.yaml\nconfigMapGenerator:\n  - name: settings\n    literals: [a=b]\ngeneratorOptions:\n  disableNameSuffixHash: true\n", "  - other.yaml\n"),
        "app/release.yaml": release("app", "downloads"),
        "app/other.yaml": release("other", ""),
        "app/secret.yaml": secret,
        "app/patches/postgres.yaml": patch("app", "downloads", "    initContainers:\n      init-db:\n        image: postgres-init\n        envFrom:\n          - secretRef: {name: db}\n    list: [b]\n"),
        "app/patches/more.yaml": patch("app", "downloads", "    env:\n      B: \"2\"\n") + "---\n" + patch("other", "default", "    other: true\n"),
        // Then `patches` over the result (kustomize's order: patchesStrategicMerge first).
        "ordered/kustomization.yaml": app("patchesStrategicMerge:\n  - patch.yaml\npatches:\n  - target: {kind: HelmRelease}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {values: {list: [c]}}}'\n"),
        "ordered/release.yaml": release("ordered", ""),
        "ordered/secret.yaml": secret,
        "ordered/patch.yaml": patch("ordered", "", "    list: [b]\n    env:\n      C: \"3\"\n"),
        // Left to kustomize: a patch that matches no object (kustomize fails), one of another namespace (the same),
        // one of a built-in kind.
        "nothing/kustomization.yaml": app("patchesStrategicMerge:\n  - patch.yaml\n"),
        "nothing/release.yaml": release("nothing", ""),
        "nothing/secret.yaml": secret,
        "nothing/patch.yaml": patch("absent", "", "    x: 1\n"),
        "elsewhere/kustomization.yaml": app("patchesStrategicMerge:\n  - patch.yaml\n"),
        "elsewhere/release.yaml": release("elsewhere", "one"),
        "elsewhere/secret.yaml": secret,
        "elsewhere/patch.yaml": patch("elsewhere", "two", "    x: 1\n"),
        "builtin/kustomization.yaml": app("patchesStrategicMerge:\n  - patch.yaml\n"),
        "builtin/release.yaml": release("builtin", ""),
        "builtin/secret.yaml": secret,
        "builtin/patch.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: downloads\nstringData:\n  MORE: y\n",
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // app and ordered, each as it is and under a targetNamespace; the other three, and app/patches as Flux's generated
    // kustomization (two objects of one name), twice each, declined.
    assert.deepEqual([result.composed, result.declined], [4, 8]);
});

test("Flux spec.components that only add resources compose over a path without transformers, as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const flux = (name: string, path: string, extra: string) =>
        `---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ${path}\n  prune: true\n  sourceRef: {kind: Bucket, name: b}\n${extra}`;
    const release = (name: string) => `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${name}\nspec:\n  interval: 1h\n`;
    const root = writeTree({
        // onedr0p/home-ops' pattern: components of resources only (a file, a folder with a Kustomization), used by apps.
        "components/backup/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./pvc.yaml\n  - ./alerts\n",
        "components/backup/pvc.yaml": "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: ${APP}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
        "components/backup/alerts/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [alert.yaml]\n",
        "components/backup/alerts/alert.yaml": "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata:\n  name: ${APP}\nspec:\n  providerRef: {name: p}\n  eventSources: [{kind: HelmRelease, name: '*'}]\n",
        "components/scaler/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [hpa.yaml]\n",
        "components/scaler/hpa.yaml": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: ${APP}\nspec:\n  maxReplicas: 1\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: x}\n",
        // A component with a patch (acts on everything before it) and one that is a Kustomization: left to kustomize.
        "components/patching/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - target: {kind: HelmRelease}\n    patch: '{kind: HelmRelease, metadata: {name: _}, spec: {suspend: true}}'\n",
        "components/not-a-component/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\n",
        "components/not-a-component/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        "apps/one/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [release.yaml]\n",
        "apps/one/release.yaml": release("one"),
        "apps/generated/release.yaml": release("generated"),
        // A path with a hashed generator and configurations (carpenike/k8s-gitops' and onedr0p/home-ops' apps): they
        // only add objects and fix names at the end, so Flux's order and the overlay's agree.
        "apps/generating/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [release.yaml]\nconfigMapGenerator:\n  - name: values\n    literals: [a=b]\nconfigurations: [config.yaml]\n",
        "apps/generating/config.yaml": "nameReference:\n  - kind: ConfigMap\n    version: v1\n    fieldSpecs:\n      - {path: spec/valuesFrom/name, kind: HelmRelease}\n",
        "apps/generating/release.yaml": release("generating") + "  valuesFrom: [{kind: ConfigMap, name: values}]\n",
        // A path kustomization with a namespace: Flux's order (components before it) and the overlay's differ.
        "apps/namespaced/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: elsewhere\nresources: [release.yaml]\n",
        "apps/namespaced/release.yaml": release("namespaced"),
        "flux/apps.yaml":
            flux("one", "./apps/one", "  targetNamespace: team\n  components: [../../components/backup, ../../components/scaler]\n  patches:\n    - target: {kind: HelmRelease}\n      patch: '{kind: HelmRelease, metadata: {name: _}, spec: {interval: 5m}}'\n") +
            flux("generated", "./apps/generated", "  components: [../../components/backup]\n") +
            flux("generating", "./apps/generating", "  components: [../../components/scaler]\n  patches:\n    - target: {kind: HelmRelease}\n      patch: '{kind: HelmRelease, metadata: {name: _}, spec: {interval: 5m}}'\n") +
            flux("namespaced", "./apps/namespaced", "  components: [../../components/scaler]\n") +
            flux("patching", "./apps/one", "  components: [../../components/patching]\n") +
            flux("not-a-component", "./apps/one", "  components: [../../components/not-a-component]\n") +
            flux("missing", "./apps/one", "  components: [../../components/missing]\n"),
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // Each kustomization and generated folder as it is and under a targetNamespace (14 compose; the three Components
    // are no kustomize build on their own: 6), and the Flux Kustomizations "one", "generated" and "generating" (the
    // other four: declined).
    assert.deepEqual([result.composed, result.declined], [17, 10]);
    const { composeBuild } = await import("../../src/validate/compose.ts");
    const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const sources = { kustomizations, parsed: new Map(parsedFiles.map((file) => [file.file, file])) };
    const composes = async (dir: string, components: string[], generated?: string[]) => (await composeBuild(path.join(root, dir), sources, { components, generated })) !== undefined;
    assert.equal(await composes("apps/one", ["../../components/backup", "../../components/scaler"]), true);
    assert.equal(await composes("apps/generated", ["../../components/backup"], [path.join(root, "apps/generated/release.yaml")]), true);
    assert.equal(await composes("apps/namespaced", ["../../components/scaler"]), false);
    assert.equal(await composes("apps/one", ["../../components/patching"]), false);
    assert.equal(await composes("apps/one", ["../../components/not-a-component"]), false);
    assert.equal(await composes("apps/one", ["../../components/missing"]), false);
});

test("a kustomization's own components of resources, and `resources: []`, compose as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const root = writeTree({
        // xunholy/k8s-gitops' namespace folders: a namespace, and a component adding alerts (a folder of its own) to
        // each; the namespace transformer places the component's objects too.
        "components/common/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./alerts\n",
        "components/common/alerts/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [alert.yaml]\n",
        "components/common/alerts/alert.yaml": "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata:\n  name: alerts\nspec:\n  providerRef: {name: p}\n  eventSources: [{kind: HelmRelease, name: '*'}]\n",
        "components/patching/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - target: {kind: Alert}\n    patch: '{kind: Alert, metadata: {name: _}, spec: {suspend: true}}'\n",
        "apps/ai/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ai\ncomponents:\n  - ../../components/common\nresources:\n  - namespace.yaml\n  - ../../empty\n",
        "apps/ai/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ai\n",
        "apps/ml/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ml\ncomponents: [../../components/common]\nresources: [namespace.yaml]\n",
        "apps/ml/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml\n",
        // Both: an Alert of one name in two namespaces is two objects to kustomize; a patch by target reaches both.
        "apps/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ai, ml]\npatches:\n  - target: {kind: Alert}\n    patch: '{kind: Alert, metadata: {name: _}, spec: {summary: patched}}'\n",
        // One name in `default` and without a namespace: one id twice, which kustomize refuses.
        "clash/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
        "clash/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n",
        "clash/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        // xunholy/k8s-gitops' repositories/git: `resources: []`, which builds into nothing.
        "empty/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
        // Left to kustomize: a component with a patch.
        "apps/patched/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncomponents: [../../components/common, ../../components/patching]\nresources: [../../empty]\n",
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // apps/ai, apps/ml and apps (a Namespace under its own name: only as they are), empty and the alerts folder, as
    // they are and under a targetNamespace; the components themselves (no build of their own), apps/patched and
    // clash, twice each, and apps, apps/ai and apps/ml under a targetNamespace declined.
    assert.deepEqual([result.composed, result.declined], [7, 11]);
});

test("hashed ConfigMap generators compose with kustomize's name hash, and `configurations` references to them are fixed, as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const { composeBuild } = await import("../../src/validate/compose.ts");
    const release = (name: string, namespace: string, valuesFrom: string) =>
        `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}spec:\n  interval: 1h\n  valuesFrom:\n${valuesFrom}`;
    const config = "nameReference:\n  - kind: ConfigMap\n    version: v1\n    fieldSpecs:\n      - path: spec/valuesFrom/name\n        kind: HelmRelease\n";
    const app = (extra: string, resources = "[helmrelease.yaml]") =>
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: ${resources}\nconfigMapGenerator:\n  - name: app-values\n    files: [values.yaml]\n  - name: app-extra\n    literals: [\"html=<a href='x'>&amp;</a>\", \"quote=say \\\"hi\\\"\", 'unicode=é ✓']\nconfigurations: [kustomizeconfig.yaml]\n${extra}`;
    const values = "replicas: 2\nnote: \"tabs\\tand\\\\backslashes\"\n";
    const refs = "    - {kind: ConfigMap, name: app-values}\n    - {kind: ConfigMap, name: app-extra, valuesKey: html}\n    - {kind: Secret, name: app-secret}\n";
    const files: Record<string, string> = {};
    const add = (dir: string, kustomization: string, helmrelease: string, more: Record<string, string> = {}) => {
        files[`${dir}/kustomization.yaml`] = kustomization;
        files[`${dir}/helmrelease.yaml`] = helmrelease;
        files[`${dir}/values.yaml`] = values;
        files[`${dir}/kustomizeconfig.yaml`] = config;
        for (const [name, body] of Object.entries(more)) files[`${dir}/${name}`] = body;
    };
    // xunholy/k8s-gitops' app: a HelmRelease whose valuesFrom names hashed generators (namespaced like it, or not).
    add("app", app(""), release("app", "", refs));
    add("namespaced", app("namespace: apps\n"), release("app", "flux-system", refs));
    add("same-namespace", app("").replace("  - name: app-values\n", "  - name: app-values\n    namespace: flux-system\n"), release("app", "flux-system", "    - {kind: ConfigMap, name: app-values}\n"));
    // Workloads: kustomize's built-in references to ConfigMaps (xunholy/k8s-gitops' azerothcore Job mounting one):
    // volumes, projected volumes, env and envFrom, in containers and init containers, a Pod, a CronJob.
    // Declined: the referrer in another namespace; a Role (its resourceNames: built-in, not followed); a
    // configurations file with more than ConfigMap name references.
    add("other-namespace", app("").replace("  - name: app-values\n", "  - name: app-values\n    namespace: elsewhere\n"), release("app", "flux-system", "    - {kind: ConfigMap, name: app-values}\n"));
    const podSpec = (indent: string) =>
        `containers:\n  - name: c\n    image: i\n    envFrom: [{configMapRef: {name: app-values}}, {secretRef: {name: app-values}}]\n    env:\n      - {name: A, valueFrom: {configMapKeyRef: {name: app-extra, key: html}}}\n      - {name: B, value: app-values}\ninitContainers:\n  - {name: i, image: i, envFrom: [{configMapRef: {name: app-extra}}]}\nvolumes:\n  - {name: v, configMap: {name: app-values}}\n  - {name: p, projected: {sources: [{configMap: {name: app-extra}}, {secret: {name: app-values}}]}}\n  - {name: o, configMap: {name: other}}\n`.replace(/^(?=.)/gm, indent);
    add("deployment", app("", "[helmrelease.yaml, deployment.yaml, job.yaml, pod.yaml]"), release("app", "", refs), {
        "deployment.yaml": `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n${podSpec("      ")}`,
        "job.yaml": `apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: j\nspec:\n  schedule: "@daily"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n${podSpec("          ")}---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n${podSpec("      ")}`,
        "pod.yaml": `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n${podSpec("  ")}`,
    });
    // A ClusterRole without resourceNames and an Ingress without the fastcgi annotation (controlplaneio-fluxcd/d2-infra's
    // monitoring ClusterRole beside its Grafana dashboards): nothing of them names a ConfigMap, so they compose.
    add("unnamed", app("", "[helmrelease.yaml, rbac.yaml]"), release("app", "", refs), {
        "rbac.yaml":
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\nrules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]\n---\n" +
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations: {nginx.ingress.kubernetes.io/rewrite-target: /}\nspec:\n  rules: [{host: x.example.com}]\n",
    });
    add("role", app("", "[helmrelease.yaml, role.yaml]"), release("app", "", refs), {
        "role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\nrules: [{apiGroups: [''], resources: [configmaps], resourceNames: [app-values], verbs: [get]}]\n",
    });
    // Hashed generators below the top of the build, and their kustomization's `configurations`, which kustomize
    // merges up and applies at the end (xunholy/k8s-gitops' flux-instance app under the cluster's folder): also to
    // a referrer outside that kustomization.
    files["outer/kustomization.yaml"] = "resources: [../app, release.yaml]\n";
    files["outer/release.yaml"] = release("outer", "", "    - {kind: ConfigMap, name: app-values}\n");
    add("wider-config", app(""), release("app", "", refs));
    files["wider-config/kustomizeconfig.yaml"] = `${config}commonLabels:\n  - path: spec/values/labels\n    kind: HelmRelease\n    create: true\n`;
    // Kustomizations of generators alone (bjw-s/home-ops' Grafana dashboards, included by an app), with or without
    // `resources: []`, hashed or not: they build into their ConfigMaps.
    files["dashboards/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n  - name: dashboard\n    files: [home.json]\ngeneratorOptions:\n  disableNameSuffixHash: true\n  labels: {grafana_dashboard: \"true\"}\n";
    files["dashboards/home.json"] = '{"title": "home", "panels": []}\n';
    files["dashboard-user/kustomization.yaml"] = "resources: [../dashboards, release.yaml]\n";
    files["dashboard-user/release.yaml"] = release("grafana", "", "    - {kind: ConfigMap, name: dashboard}\n");
    files["generators-only/kustomization.yaml"] = "resources: []\nconfigMapGenerator:\n  - name: hashed\n    literals: [a=b]\n";
    // A Flux Kustomization over the app: targetNamespace and a patch of the HelmRelease on top.
    files["flux/app.yaml"] =
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\nspec:\n  interval: 1h\n  path: ./app\n  prune: true\n  sourceRef: {kind: Bucket, name: b}\n  targetNamespace: team\n" +
        "  patches:\n    - target: {kind: HelmRelease}\n      patch: '{kind: HelmRelease, metadata: {name: _}, spec: {interval: 5m}}'\n";
    const root = writeTree(files);
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // app, namespaced, same-namespace, outer, deployment, unnamed, the three generator ones and the flux folder, each
    // as it is and under a targetNamespace; other-namespace only under one (where both objects share it); the Flux
    // Kustomization over app. Declined: the rest.
    assert.deepEqual([result.composed, result.declined], [22, 5]);
    const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const sources = { kustomizations, parsed: new Map(parsedFiles.map((file) => [file.file, file])) };
    const built = async (dir: string) => composeBuild(path.join(root, dir), sources);
    for (const dir of ["app", "namespaced", "same-namespace", "outer", "deployment", "unnamed", "dashboards", "dashboard-user", "generators-only"]) assert.ok(await built(dir), `${dir}: not composed`);
    for (const dir of ["other-namespace", "role", "wider-config"]) assert.equal(await built(dir), undefined, `${dir}: composed`);
    const workloads = (await built("deployment"))!.map(({ object }) => object);
    assert.ok(JSON.stringify(workloads.find(({ kind }) => kind === "Job")).match(/app-values-[a-z0-9]{10}/g)!.length >= 2);
    const outer = (await built("outer"))!.map(({ object }) => object) as { kind: string; metadata: { name: string }; spec?: { valuesFrom: { name: string }[] } }[];
    assert.match(outer.find(({ metadata }) => metadata.name === "outer")!.spec!.valuesFrom[0].name, /^app-values-[a-z0-9]{10}$/);
    // The names really are hashed and the references really are rewritten (not only equal to kubectl's by luck).
    const app0 = (await built("app"))!.map(({ object }) => object) as { kind: string; metadata: { name: string }; spec?: { valuesFrom: { name: string }[] } }[];
    const names = app0.filter(({ kind }) => kind === "ConfigMap").map(({ metadata }) => metadata.name);
    assert.equal(names.length, 2);
    assert.ok(names.every((name) => /^app-(values|extra)-[a-z0-9]{10}$/.test(name)), names.join(", "));
    const releaseObject = app0.find(({ kind }) => kind === "HelmRelease")!;
    assert.deepEqual(releaseObject.spec!.valuesFrom.map(({ name }) => name).slice(0, 2).sort(), [...names].sort());
    assert.equal(releaseObject.spec!.valuesFrom[2].name, "app-secret");
});

test("secretGenerator composes (base64 data in kustomize's lines, type, the name hash) and `configurations` references to Secrets are fixed, as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const { composeBuild } = await import("../../src/validate/compose.ts");
    const release = (namespace: string) =>
        `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n${namespace ? `  namespace: ${namespace}\n` : ""}spec:\n  interval: 1h\n  valuesFrom:\n    - {kind: ConfigMap, name: app-values}\n    - {kind: Secret, name: app-secret-values}\n    - {kind: Secret, name: not-generated}\n`;
    const config = "nameReference:\n  - kind: ConfigMap\n    version: v1\n    fieldSpecs:\n      - path: spec/valuesFrom/name\n        kind: HelmRelease\n  - kind: Secret\n    version: v1\n    fieldSpecs:\n      - path: spec/valuesFrom/name\n        kind: HelmRelease\n";
    // xunholy/k8s-gitops' game servers: a ConfigMap and a Secret (of a SOPS-encrypted file) generated in the
    // HelmRelease's namespace, hashed, the HelmRelease's valuesFrom naming both.
    const kustomization = (extra: string, resources = "[helmrelease.yaml]") =>
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: ${resources}\nconfigMapGenerator:\n  - name: app-values\n    namespace: games\n    files: [values.yaml=./values.yaml]\nsecretGenerator:\n  - name: app-secret-values\n    namespace: games\n    files:\n      - values.yaml=values.enc.age.yaml\n      - long.txt\n      - binary.bin\n    literals: [password=s3cr3t, 'quoted=\"x y\"', empty=]\n${extra}configurations: [kustomizeconfig.yaml]\n`;
    const files: Record<string, string> = {};
    const add = (dir: string, body: string, helmrelease: string, more: Record<string, string> = {}) => {
        Object.assign(files, {
            [`${dir}/kustomization.yaml`]: body,
            [`${dir}/helmrelease.yaml`]: helmrelease,
            [`${dir}/values.yaml`]: "replicas: 2\n",
            [`${dir}/values.enc.age.yaml`]: "password: ENC[AES256_GCM,data:abc=,type:str]\nsops:\n    age:\n        - recipient: age1x\n",
            // 52 bytes: 72 base64 characters, one full line of 70 and a second one; 51: 68, one line without a break.
            [`${dir}/long.txt`]: "x".repeat(51) + "\n",
            [`${dir}/kustomizeconfig.yaml`]: config,
        });
        for (const [name, content] of Object.entries(more)) files[`${dir}/${name}`] = content;
    };
    add("app", kustomization("generatorOptions:\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"), release("games"));
    add("short", kustomization("").replace("x".repeat(51), ""), release("games"), { "long.txt": "x".repeat(50) + "\n" });
    add("typed", kustomization("").replace("    literals:", "    type: kubernetes.io/basic-auth\n    options: {disableNameSuffixHash: true}\n    literals:"), release("games"));
    // toboshii/home-ops' glauth: Secrets of files alone, no hash, under a namespace.
    files["plain/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: security\nsecretGenerator:\n  - name: glauth\n    files:\n      - server.toml=server.sops.toml\ngeneratorOptions:\n  disableNameSuffixHash: true\n";
    files["plain/server.sops.toml"] = "[ldap]\nenabled = true\n";
    // Declined: a ConfigMap and a Secret of one name (a reference could be renamed after either); a ServiceAccount
    // (a built-in referrer of Secrets). Composed: a hashed Secret below the top of the build.
    add("shared-name", kustomization("").replace("name: app-values", "name: app-secret-values"), release("games"));
    add("service-account", kustomization("", "[helmrelease.yaml, sa.yaml]"), release("games"), { "sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: games\nsecrets: [{name: app-secret-values}]\n" });
    files["outer/kustomization.yaml"] = "resources: [../app]\n";
    const root = writeTree(files);
    for (const dir of ["app", "short", "typed", "shared-name", "service-account"]) writeFileSync(path.join(root, dir, "binary.bin"), Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // app, short (a Secret value under 70 base64 characters), typed, plain and outer, each as it is and under a
    // targetNamespace (which puts the HelmRelease and the generated objects in one namespace); declined: shared-name
    // and service-account, twice each.
    assert.deepEqual([result.composed, result.declined], [10, 4]);
    const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const built = (await composeBuild(path.join(root, "app"), { kustomizations, parsed: new Map(parsedFiles.map((file) => [file.file, file])) }))!.map(({ object }) => object) as {
        kind: string;
        metadata: { name: string };
        data?: Record<string, string>;
        spec?: { valuesFrom: { name: string }[] };
    }[];
    const secret = built.find(({ kind }) => kind === "Secret")!;
    assert.match(secret.metadata.name, /^app-secret-values-[a-z0-9]{10}$/);
    const encoded = Buffer.from("x".repeat(51) + "\n").toString("base64");
    assert.equal(secret.data!["long.txt"], `${encoded.slice(0, 70)}\n${encoded.slice(70)}\n`);
    assert.deepEqual(
        built.find(({ kind }) => kind === "HelmRelease")!.spec!.valuesFrom.map(({ name }) => name),
        [built.find(({ kind }) => kind === "ConfigMap")!.metadata.name, secret.metadata.name, "not-generated"],
    );
});

test("offline, remote resources and generator files are left out of a composed build, as validation has kubectl build it", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const { composeBuild } = await import("../../src/validate/compose.ts");
    const root = writeTree({
        // toboshii/home-ops' CRDs: a folder whose one resource is a URL (it adds nothing offline), beside local ones.
        "crds/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cert-manager\n  - local\n",
        "crds/cert-manager/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - https://github.com/cert-manager/cert-manager/releases/download/v1.8.2/cert-manager.crds.yaml\n",
        "crds/local/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - github.com/example/crds//config?ref=v1\n  - repository.yaml\n",
        "crds/local/repository.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\nspec:\n  url: https://charts.example.com\n  interval: 1h\n",
        // Its Grafana dashboards: ConfigMaps generated from URLs only (no data offline), and one local file beside a URL.
        "dashboard/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: flux-system\nconfigMapGenerator:\n  - name: remote-only\n    files:\n      - cluster.json=https://raw.githubusercontent.com/fluxcd/flux2/v0.31.4/manifests/monitoring/monitoring-config/dashboards/cluster.json\n" +
            "  - name: mixed\n    files:\n      - logs.json=https://raw.githubusercontent.com/example/logs.json\n      - local.json\ngeneratorOptions:\n  disableNameSuffixHash: true\n  labels:\n    grafana_dashboard: \"true\"\n",
        "dashboard/local.json": '{"title": "local"}\n',
        // Hashed, a generator with nothing left is left to kustomize (its hash of no data is not followed).
        "hashed/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n  - name: remote-only\n    files:\n      - https://raw.githubusercontent.com/example/a.json\n",
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // crds, crds/cert-manager, crds/local and dashboard, each as it is and under a targetNamespace; hashed (twice) not.
    assert.deepEqual([result.composed, result.declined], [8, 2]);
    // With remote bases fetched (--allow-remote-bases), kustomize builds them.
    const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const parsed = new Map(parsedFiles.map((file) => [file.file, file]));
    assert.equal(await composeBuild(path.join(root, "crds"), { kustomizations, parsed }), undefined);
    assert.equal((await composeBuild(path.join(root, "crds"), { kustomizations, parsed, omitRemote: true }))?.length, 1);
});

test("RoleBinding and ClusterRoleBinding subjects under a namespace compose (only a subject named default gets it), as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const binding = (kind: string, name: string, subjects: string) =>
        `apiVersion: rbac.authorization.k8s.io/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n${subjects}`;
    const subjects =
        "subjects:\n  - {kind: Group, name: 'example:admins', apiGroup: rbac.authorization.k8s.io}\n  - {kind: ServiceAccount, name: default}\n  - {kind: ServiceAccount, name: default, namespace: elsewhere}\n  - {kind: ServiceAccount, name: app, namespace: elsewhere}\n  - {kind: User, name: default}\n";
    const root = writeTree({
        // xunholy/k8s-gitops' dex-k8s-authenticator: ClusterRoleBindings of Groups, built under a targetNamespace.
        "rbac/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [bindings.yaml]\n",
        "rbac/bindings.yaml": [binding("ClusterRoleBinding", "cluster", subjects), binding("RoleBinding", "local", subjects), binding("ClusterRoleBinding", "none", "")].join("---\n"),
        "namespaced/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team\nresources: [../rbac]\n",
        // A custom kind named RoleBinding gets the same treatment from kustomize (it looks at the kind alone): declined.
        "custom/kustomization.yaml": "namespace: team\nresources: [binding.yaml]\n",
        "custom/binding.yaml": "apiVersion: example.com/v1\nkind: RoleBinding\nmetadata:\n  name: custom\nsubjects: [{name: default}]\n",
        // A ServiceAccount of the build named by a subject: kustomize's name references move the subject with it
        // (bjw-s/home-ops' external-secrets-pg): declined under a namespace, composed without one.
        "account/kustomization.yaml": "resources: [binding.yaml, account.yaml]\n",
        "account/binding.yaml": binding("ClusterRoleBinding", "account", "subjects: [{kind: ServiceAccount, name: app, namespace: database}]\n"),
        "account/account.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: database\n",
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // rbac and namespaced, each as it is and under a targetNamespace, and account as it is; custom (twice) and account
    // under a targetNamespace declined.
    assert.deepEqual([result.composed, result.declined], [5, 3]);
});

test("admission policies, cluster-scoped but unknown to kustomize's schema, get a namespace, as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const objects = ["v1alpha1", "v1beta1", "v1"].flatMap((version) =>
        ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"].map(
            (kind) => `apiVersion: admissionregistration.k8s.io/${version}\nkind: ${kind}\nmetadata:\n  name: ${kind.toLowerCase()}-${version}\nspec: {}\n`,
        ),
    );
    const root = writeTree({
        // xunholy/k8s-gitops' volsync maintenance: a MutatingAdmissionPolicy in a folder with a namespace.
        "policies/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: volsync-system\nresources: [policies.yaml]\n",
        "policies/policies.yaml": objects.join("---\n"),
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    assert.deepEqual([result.composed, result.declined], [2, 0]);
});

test("JSON 6902 patches of map fields compose (add, replace, remove), as kubectl kustomize builds them", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const patch = (kind: string, name: string, operations: string) => `  - target: {kind: ${kind}, name: ${name}}\n    patch: |\n${operations.replace(/^(?=.)/gm, "      ")}`;
    const base = {
        "base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [issuer.yaml, release.yaml, deployment.yaml]\n",
        "base/issuer.yaml": "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme:\n    email: a@example.com\n    privateKeySecretRef: {name: key}\n",
        "base/release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: kube-prometheus-stack\n  annotations: {a/b: x}\nspec:\n  interval: 1h\n  values:\n    prometheus:\n      prometheusSpec: {retention: 24h, old: 1}\n    list: [a, b]\n",
        "base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i}]\n",
    };
    const root = writeTree({
        ...base,
        // controlplaneio-fluxcd/d2-infra's production and staging configs: an ACME server added, a retention replaced.
        "production/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../base]\npatches:\n" +
            patch("ClusterIssuer", "letsencrypt", "- op: add\n  path: /spec/acme/server\n  value: https://acme-v02.api.letsencrypt.org/directory\n") +
            patch("HelmRelease", "kube-prometheus-stack", "- op: replace\n  path: /spec/values/prometheus/prometheusSpec/retention\n  value: 48h\n- op: remove\n  path: /spec/values/prometheus/prometheusSpec/old\n- op: add\n  path: /metadata/annotations/a~1b\n  value: z\n- op: add\n  path: /spec/values/list\n  value: {now: a map}\n") +
            patch("Deployment", "d", "- op: replace\n  path: /spec/replicas\n  value: 3\n") +
            patch("Deployment", "nothing-has-this-name", "- op: add\n  path: /spec/paused\n  value: true\n"),
        // Left to kustomize: a path through a list, a replace of a key that is not there (kustomize fails), a test.
        "list/kustomization.yaml": "resources: [../base]\npatches:\n" + patch("Deployment", "d", "- op: add\n  path: /spec/template/spec/containers/0/args\n  value: [x]\n"),
        "missing/kustomization.yaml": "resources: [../base]\npatches:\n" + patch("ClusterIssuer", "letsencrypt", "- op: replace\n  path: /spec/acme/server\n  value: x\n"),
        "test-op/kustomization.yaml": "resources: [../base]\npatches:\n" + patch("ClusterIssuer", "letsencrypt", "- op: test\n  path: /spec/acme/email\n  value: a@example.com\n"),
        // kustomize reads a JSON 6902 patch as YAML 1.1, where `y` is true: declined.
        "yaml11/kustomization.yaml": "resources: [../base]\npatches:\n" + patch("HelmRelease", "kube-prometheus-stack", "- op: add\n  path: /metadata/annotations/a~1b\n  value: y\n"),
        // Flux's spec.patches take JSON 6902 patches too.
        "flux/ks.yaml":
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: base\nspec:\n  interval: 1h\n  path: ./base\n  prune: true\n  sourceRef: {kind: Bucket, name: b}\n  patches:\n" +
            patch("HelmRelease", "kube-prometheus-stack", "- op: add\n  path: /spec/suspend\n  value: true\n").replace(/^/gm, "  "),
    });
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    // base, production and flux/ (generated), each as it is and under a targetNamespace, and the Flux Kustomization
    // over base; list, missing, test-op and yaml11, twice each, declined.
    assert.deepEqual([result.composed, result.declined], [7, 8]);
});

test("commonLabels and labels that set only metadata.labels compose, as kubectl kustomize builds them; selectors and templates are left to it", async (t) => {
    const { compareTree } = await import("../../scripts/compareBuilds.ts");
    const { composeBuild } = await import("../../src/validate/compose.ts");
    const objects =
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n  labels: {app.kubernetes.io/name: own, keep: x}\nspec:\n  interval: 1h\n---\n" +
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n";
    const service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector: {a: b}\n  ports: [{port: 80}]\n";
    const generator = "configMapGenerator:\n  - name: values\n    literals: [a=b]\ngeneratorOptions:\n  labels: {from: options, app.kubernetes.io/name: options}\n";
    const patch = "patches:\n  - target: {kind: HelmRelease}\n    patch: '{kind: HelmRelease, metadata: {name: _, labels: {app.kubernetes.io/instance: patched, other: patched}}}'\n";
    const cases: Record<string, [string, boolean]> = {
        // carpenike/k8s-gitops' apps: commonLabels or labels over a HelmRelease, a PVC, a generated ConfigMap.
        common: [`resources: [objects.yaml]\n${generator}${patch}commonLabels:\n  app.kubernetes.io/name: app\n  app.kubernetes.io/instance: app\n`, true],
        pairs: [`namespace: apps\nresources: [objects.yaml]\n${generator.replace("generatorOptions:\n", "generatorOptions:\n  disableNameSuffixHash: true\n")}${patch}labels:\n  - pairs: {app.kubernetes.io/name: app, app.kubernetes.io/instance: app}\n  - pairs: {app.kubernetes.io/name: second}\n`, true],
        selectors: ["resources: [objects.yaml]\nlabels:\n  - pairs: {team: x}\n    includeSelectors: true\n", true],
        "pairs-over-service": ["resources: [objects.yaml, service.yaml]\nlabels:\n  - pairs: {team: x}\n", true],
        "common-over-service": ["resources: [objects.yaml, service.yaml]\ncommonLabels: {team: x}\n", false],
        "selectors-over-service": ["resources: [objects.yaml, service.yaml]\nlabels:\n  - pairs: {team: x}\n    includeSelectors: true\n", false],
        templates: ["resources: [objects.yaml]\nlabels:\n  - pairs: {team: x}\n    includeTemplates: true\n", false],
        both: ["resources: [objects.yaml]\ncommonLabels: {a: b}\nlabels:\n  - pairs: {team: x}\n", false],
        "not-a-string": ["resources: [objects.yaml]\ncommonLabels: {replicas: 2}\n", false],
        // Labels of an included kustomization stay its own objects'.
        nested: ["resources: [../pairs, extra.yaml]\nlabels:\n  - pairs: {outer: z}\n", true],
        // `y` is a string to YAML 1.2 and a boolean to the YAML 1.1 reader kustomize reads kustomization files with.
        "yaml-1.1-boolean": ["resources: [objects.yaml]\nlabels:\n  - pairs: {outer: y}\n", false],
        "yaml-1.1-number": ["resources: [objects.yaml]\ncommonLabels: {port: 1_000}\n", false],
        "quoted-numbers": ["resources: [objects.yaml]\ncommonLabels: {port: \"80\", ratio: '0.5', on-off: \"yes-no\"}\n", true],
    };
    const files: Record<string, string> = {};
    for (const [name, [kustomization]] of Object.entries(cases)) {
        files[`${name}/kustomization.yaml`] = kustomization;
        files[`${name}/objects.yaml`] = objects;
        files[`${name}/service.yaml`] = service;
    }
    files["nested/extra.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {a: b}\n";
    const root = writeTree(files);
    const result = await compareTree(root);
    t.diagnostic(`composed ${result.composed}, declined ${result.declined}`);
    assert.deepEqual(result.mismatches, []);
    const parsedFiles = await Promise.all((await listYamlFiles(root)).map(parseYamlFile));
    const kustomizations = await readKustomizations(parsedFiles.filter(({ file }) => isKustomizationFile(file)), root, []);
    const sources = { kustomizations, parsed: new Map(parsedFiles.map((file) => [file.file, file])) };
    for (const [name, [, composes]] of Object.entries(cases)) {
        assert.equal((await composeBuild(path.join(root, name), sources)) !== undefined, composes, `${name}: ${composes ? "not composed" : "composed"}`);
    }
    assert.deepEqual([result.composed, result.declined], [12, 14]);
});
