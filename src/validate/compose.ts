// What `kubectl kustomize` (kustomize v5.5.0 in kubectl 1.32) builds, computed without running it, for the
// kustomizations where that is certain; undefined for every other one, which kustomize then builds.
//
// Composed: a kustomization whose fields are only `resources` (local files of plain whole objects, or folders whose
// kustomization composes), `namespace`, `configMapGenerator` (files and literals, the name suffix hash disabled) and
// `generatorOptions: {disableNameSuffixHash: true}`; a folder without a kustomization file as Flux's generator lists
// it; and on top, a Flux Kustomization's spec.targetNamespace (which kustomize-controller writes as the path's
// `namespace`). What the output is, as kubectl kustomize shows it (tests/validate/composedBuild.test.ts and
// `scripts/validationCorpus.ts compare-builds`, which compares every kustomization of the corpus trees):
// - resources: the files' objects as they are; an included folder's build;
// - configMapGenerator: `{apiVersion: v1, kind: ConfigMap, metadata: {name, namespace?}, data}`, data from
//   literals (`key=value`, one pair of enclosing quotes removed) and files (`path` keyed by its base name, or
//   `key=path`), each file's content as it is;
// - namespace: metadata.namespace set (replaced) on every object kustomize takes as namespaced: every kind its
//   built-in Kubernetes schema does not list as cluster-scoped, custom resources included (even a ClusterIssuer).
// Declined (kustomize builds it): anything else, including a Namespace object under a namespace (kustomize renames
// it), kinds whose other fields the namespace transformer changes (RoleBinding subjects, webhooks, APIService, CRD
// conversion), a built-in kind not listed here, a List, YAML anchors or tags, a non-UTF-8 generator file, a key
// kustomize refuses, and two objects of one kind and name (which kustomize refuses or merges).
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { KustomizationDir } from "./builds.ts";
import { isKustomizationFile } from "./kustomizationFile.ts";
import { isRecord } from "./problems.ts";
import type { ParsedYamlFile } from "./yamlFiles.ts";

export type ComposedObject = { object: Record<string, unknown>; file: string };

export interface ComposeSources {
    kustomizations: Map<string, KustomizationDir>;
    /** The tree's parsed files, kustomization files included, by absolute path. */
    parsed: Map<string, ParsedYamlFile>;
}

/**
 * The build of `dir` (its kustomization, or, without one, the kustomization Flux generates from `generated`: the
 * files and folders it lists), with targetNamespace on top; undefined where kustomize must build it.
 */
export async function composeBuild(
    dir: string,
    sources: ComposeSources,
    options: { targetNamespace?: string; generated?: string[] } = {},
): Promise<ComposedObject[] | undefined> {
    const own = sources.kustomizations.get(dir);
    let objects: ComposedObject[] | undefined;
    if (own) objects = await composeKustomization(own, sources, []);
    else if (options.generated && options.generated.length > 0 && !sources.parsed.has(path.join(dir, "kustomization.yaml"))) {
        objects = await composeList(options.generated, sources, [dir]);
    }
    if (!objects) return undefined;
    if (options.targetNamespace !== undefined) objects = withNamespace(objects, options.targetNamespace);
    return objects && unique(objects) ? objects : undefined;
}

const FIELDS = new Set(["apiVersion", "kind", "resources", "namespace", "configMapGenerator", "generatorOptions"]);

async function composeKustomization(kustomization: KustomizationDir, sources: ComposeSources, chain: string[]): Promise<ComposedObject[] | undefined> {
    if (chain.includes(kustomization.dir)) return undefined;
    const parsed = sources.parsed.get(kustomization.file);
    const content = parsed?.documents[0];
    if (!parsed || parsed.problems.length > 0 || parsed.documents.length !== 1 || !isRecord(content)) return undefined;
    if (!Object.keys(content).every((field) => FIELDS.has(field))) return undefined;
    if (content.apiVersion !== undefined && content.apiVersion !== "kustomize.config.k8s.io/v1beta1") return undefined;
    if (content.kind !== undefined && content.kind !== "Kustomization") return undefined;
    const { resources, namespace, configMapGenerator, generatorOptions } = content;
    // No resources: kustomize refuses an empty kustomization, Flux rewrites it (see fluxTree.ts).
    if (!Array.isArray(resources) || resources.length === 0) return undefined;
    const references = kustomization.references.filter((reference) => reference.role === "resource" && reference.field.startsWith("resources["));
    // A remote resource, or a value that is no path, is not among the local references.
    if (references.length !== resources.length) return undefined;
    const objects = await composeList(
        references.map(({ target }) => target),
        sources,
        [...chain, kustomization.dir],
    );
    if (!objects) return undefined;
    if (configMapGenerator !== undefined) {
        const generated = await configMaps(configMapGenerator, generatorOptions, kustomization);
        if (!generated) return undefined;
        objects.push(...generated);
    } else if (generatorOptions !== undefined) return undefined;
    if (namespace === undefined) return unique(objects) ? objects : undefined;
    if (typeof namespace !== "string") return undefined;
    // An empty namespace is no transformer at all.
    const placed = namespace === "" ? objects : withNamespace(objects, namespace);
    return placed && unique(placed) ? placed : undefined;
}

/** The objects of resource files and folders (each folder's kustomization composed), in order. */
async function composeList(targets: string[], sources: ComposeSources, chain: string[]): Promise<ComposedObject[] | undefined> {
    const objects: ComposedObject[] = [];
    for (const target of targets) {
        const included = sources.kustomizations.get(target);
        const file = sources.parsed.get(target);
        if (included) {
            const built = await composeKustomization(included, sources, chain);
            if (!built) return undefined;
            objects.push(...built);
        } else if (file && !isKustomizationFile(target) && file.plain && file.problems.length === 0 && file.documents.every(isWholeObject)) {
            objects.push(...(file.documents as Record<string, unknown>[]).map((object) => ({ object, file: target })));
        } else {
            return undefined;
        }
    }
    return objects;
}

/** An object kustomize takes as it is: apiVersion, kind and a name; no List, no kustomize config. */
export function isWholeObject(document: unknown): boolean {
    if (!isRecord(document) || typeof document.apiVersion !== "string" || typeof document.kind !== "string") return false;
    const metadata = document.metadata;
    return (
        !document.apiVersion.startsWith("kustomize.config.k8s.io") &&
        !document.kind.endsWith("List") &&
        isRecord(metadata) &&
        typeof metadata.name === "string" &&
        metadata.name !== ""
    );
}

/** No two objects share a kind and name: kustomize would refuse (or, across namespaces, keep) them; either way it decides. */
function unique(objects: ComposedObject[]): boolean {
    const ids = new Set<string>();
    for (const { object } of objects) {
        const id = `${object.kind}/${(object.metadata as { name: string }).name}`;
        if (ids.has(id)) return false;
        ids.add(id);
    }
    return true;
}

// The API groups of kustomize's built-in Kubernetes schema: a kind of these groups is composed only when it is listed
// below. A kind of any other group (a custom resource) is namespaced for kustomize, whatever its CRD says.
const BUILT_IN_GROUPS = new Set([
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
]);
/** Built-in kinds whose only namespaced field is metadata.namespace. */
const NAMESPACED = new Set([
    "ConfigMap",
    "Secret",
    "Service",
    "ServiceAccount",
    "PersistentVolumeClaim",
    "Pod",
    "Endpoints",
    "LimitRange",
    "ResourceQuota",
    "apps/Deployment",
    "apps/StatefulSet",
    "apps/DaemonSet",
    "apps/ReplicaSet",
    "batch/Job",
    "batch/CronJob",
    "networking.k8s.io/Ingress",
    "networking.k8s.io/NetworkPolicy",
    "policy/PodDisruptionBudget",
    "autoscaling/HorizontalPodAutoscaler",
    "rbac.authorization.k8s.io/Role",
    "coordination.k8s.io/Lease",
]);
/** Built-in cluster-scoped kinds the namespace transformer leaves as they are (a v1 Namespace it renames: declined). */
const CLUSTER_SCOPED = new Set([
    "v1/PersistentVolume",
    "rbac.authorization.k8s.io/v1/ClusterRole",
    "scheduling.k8s.io/v1/PriorityClass",
    "storage.k8s.io/v1/StorageClass",
    "networking.k8s.io/v1/IngressClass",
]);

/** kustomize's namespace transformer over these objects, or undefined where it does more than set metadata.namespace. */
function withNamespace(objects: ComposedObject[], namespace: string): ComposedObject[] | undefined {
    const placed: ComposedObject[] = [];
    for (const { object, file } of objects) {
        const apiVersion = String(object.apiVersion);
        const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
        const kind = String(object.kind);
        if (CLUSTER_SCOPED.has(`${apiVersion}/${kind}`)) {
            placed.push({ object, file });
            continue;
        }
        if (BUILT_IN_GROUPS.has(group) && !NAMESPACED.has(group === "" ? kind : `${group}/${kind}`)) return undefined;
        placed.push({ object: { ...object, metadata: { ...(object.metadata as Record<string, unknown>), namespace } }, file });
    }
    return placed;
}

const GENERATOR_FIELDS = new Set(["name", "namespace", "behavior", "files", "literals", "options"]);
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The ConfigMaps of a configMapGenerator as kustomize generates them, or undefined (not composed). */
async function configMaps(generators: unknown, globalOptions: unknown, kustomization: KustomizationDir): Promise<ComposedObject[] | undefined> {
    if (!Array.isArray(generators)) return undefined;
    const hashOff = (options: unknown): boolean | undefined => {
        if (options === undefined) return undefined;
        if (!isRecord(options) || !Object.keys(options).every((field) => field === "disableNameSuffixHash")) return undefined;
        return options.disableNameSuffixHash === true ? true : undefined;
    };
    // Only `disableNameSuffixHash: true` is composed: a hashed name is also rewritten in every object that refers to it.
    if (globalOptions !== undefined && hashOff(globalOptions) !== true) return undefined;
    const generated: ComposedObject[] = [];
    for (const generator of generators) {
        if (!isRecord(generator) || !Object.keys(generator).every((field) => GENERATOR_FIELDS.has(field))) return undefined;
        const { name, namespace, behavior, files, literals, options } = generator;
        if (typeof name !== "string" || name === "" || (namespace !== undefined && typeof namespace !== "string")) return undefined;
        if (behavior !== undefined && behavior !== "create") return undefined;
        if (options !== undefined && hashOff(options) !== true) return undefined;
        if (globalOptions === undefined && options === undefined) return undefined;
        const data: Record<string, string> = {};
        const add = (key: string, value: string): boolean => {
            if (!validKey(key) || Object.hasOwn(data, key)) return false;
            data[key] = value;
            return true;
        };
        if (literals !== undefined) {
            if (!Array.isArray(literals)) return undefined;
            for (const literal of literals) {
                if (typeof literal !== "string" || !literal.includes("=")) return undefined;
                const at = literal.indexOf("=");
                if (!add(literal.slice(0, at), withoutQuotes(literal.slice(at + 1)))) return undefined;
            }
        }
        if (files !== undefined) {
            if (!Array.isArray(files)) return undefined;
            for (const source of files) {
                if (typeof source !== "string") return undefined;
                const parts = source.split("=");
                if (parts.length > 2 || parts.some((part) => part === "")) return undefined;
                const [key, file] = parts.length === 2 ? parts : [path.posix.basename(source), source];
                const content = await readFile(path.resolve(kustomization.dir, file)).catch(() => undefined);
                if (!content) return undefined;
                let text: string;
                try {
                    text = utf8.decode(content);
                } catch {
                    return undefined; // kustomize puts it in binaryData
                }
                if (!add(key, text)) return undefined;
            }
        }
        if (Object.keys(data).length === 0) return undefined;
        const metadata: Record<string, unknown> = { name };
        if (namespace !== undefined && namespace !== "") metadata.namespace = namespace;
        generated.push({ object: { apiVersion: "v1", kind: "ConfigMap", metadata, data }, file: kustomization.file });
    }
    return generated;
}

/** A ConfigMap key kustomize accepts (Kubernetes' IsConfigMapKey). */
function validKey(key: string): boolean {
    return key.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(key) && key !== "." && !key.startsWith("..");
}

/** kustomize's literal values lose one pair of enclosing quotes. */
function withoutQuotes(value: string): string {
    if (value.length >= 2 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) return value.slice(1, -1);
    return value;
}
