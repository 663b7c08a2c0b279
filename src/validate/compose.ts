// What `kubectl kustomize` (kustomize v5.5.0 in kubectl 1.32) builds, computed without running it, for the
// kustomizations where that is certain; undefined for every other one, which kustomize then builds.
//
// Composed: a kustomization whose fields are only `resources` (local files of whole objects that go-yaml reads as
// this project's parser does, or whose values take go-yaml's: yamlFiles.ts; or folders whose kustomization
// composes; offline, remote ones left out: `omitRemote`), `components` (of resources only), `namespace`,
// `configMapGenerator` and `secretGenerator` (files and literals; the name hash too, given at the end of the build:
// `withHashes`), `generatorOptions` (disableNameSuffixHash, labels, annotations), `patchesStrategicMerge` (files of
// custom-resource patches, by id), `patches` (strategic merge of custom resources, by target), `labels` and
// `commonLabels` (metadata only) and `configurations` that name ConfigMaps or Secrets in custom kinds; a folder
// without a kustomization file as Flux's generator lists it; and on top, a Flux Kustomization's spec.components
// (of resources only), spec.patches and spec.targetNamespace (as fluxTree.ts's overlay over the path applies
// them). What the output is, as kubectl kustomize shows it (tests/validate/composedBuild.test.ts and
// `scripts/validationCorpus.ts compare-builds`, which compares every kustomization of the corpus trees):
// - resources: the files' objects as they are; an included folder's build;
// - generators: `{apiVersion: v1, kind: ConfigMap, metadata: {name, namespace?, labels?, annotations?}, data}`
//   (a Secret also has `type` and base64 data), data from literals (`key=value`, one pair of enclosing quotes
//   removed) and files (`path` keyed by its base name, or `key=path`), each file's content as it is;
// - patchesStrategicMerge, then patches (before the namespace, as kustomize orders its transformers): see
//   `strategicMergeFiles` and `patched`; a patched object loses its empty null fields (`withoutEmptyNulls`);
// - namespace: metadata.namespace set (replaced) on every object kustomize takes as namespaced: every kind its
//   built-in Kubernetes schema does not list as cluster-scoped, custom resources included (even a ClusterIssuer);
//   and on RoleBinding and ClusterRoleBinding subjects named `default` (`withSubjectsNamespace`).
// Declined (kustomize builds it): anything else, including a Namespace object under another namespace (kustomize
// renames it), kinds whose other fields the namespace transformer changes (APIService, CRD conversion), a built-in
// kind not listed here, a List, YAML tags or merge keys of lists, a non-UTF-8 ConfigMap file, a key kustomize
// refuses, and two objects of one kind, name and namespace (which kustomize refuses or merges).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isScalar, parseAllDocuments } from "yaml";
import type { KustomizationDir } from "./builds.ts";
import { isKustomizationFile, isRemote } from "./kustomizationFile.ts";
import { isRecord } from "./problems.ts";
import { goYamlDocuments, parseYamlText, type ParsedYamlFile } from "./yamlFiles.ts";

/**
 * `hashed`: a generated ConfigMap or Secret whose name gets kustomize's content hash at the end of the build (see
 * `withHashes`); `rebound`: a RoleBinding or ClusterRoleBinding a namespace transformer went over (see `withNamespace`).
 */
export type ComposedObject = { object: Record<string, unknown>; file: string; hashed?: boolean; rebound?: boolean };

export interface ComposeSources {
    kustomizations: Map<string, KustomizationDir>;
    /** The tree's parsed files, kustomization files included, by absolute path. */
    parsed: Map<string, ParsedYamlFile>;
    /**
     * Remote resources and generator files (URLs, git repositories) are left out, as validation offline leaves them
     * out of what kustomize builds (fluxTree.ts, `withoutRemote`): a kustomization whose resources were all remote
     * adds nothing, a generator whose files were all remote (and no literals) a ConfigMap without data. Otherwise a
     * kustomization with a remote reference is not composed (kustomize fetches it).
     */
    omitRemote?: boolean;
}

/**
 * The build of `dir` (its kustomization, or, without one, the kustomization Flux generates from `generated`: the
 * files and folders it lists), with targetNamespace on top; undefined where kustomize must build it.
 */
export async function composeBuild(
    dir: string,
    sources: ComposeSources,
    options: { targetNamespace?: string; generated?: string[]; patches?: unknown[]; components?: unknown[] } = {},
): Promise<ComposedObject[] | undefined> {
    const own = sources.kustomizations.get(dir);
    let objects: ComposedObject[] | undefined;
    if (own) objects = await composeKustomization(own, sources, []);
    else if (options.generated && options.generated.length > 0 && !sources.parsed.has(path.join(dir, "kustomization.yaml"))) {
        objects = await composeList(options.generated, sources, [dir]);
    }
    if (!objects) return undefined;
    if (options.components && options.components.length > 0) {
        // Flux writes spec.components into the path's own kustomization (fluxcd/pkg kustomize/kustomize_generator.go,
        // WriteFile: `kus.Components = append(kus.Components, component)`, relative to the path), so kustomize runs
        // them after the path's resources and generators and before its transformers
        // (api/internal/target/kusttarget.go, accumulateTarget: resources, generators, components, transformers). Composed
        // only where that order cannot matter: the path's kustomization (if any) has no transformer, only resources
        // and what adds objects or names references at the very end (configMapGenerator, generatorOptions,
        // configurations), and each component only adds resources (see `componentResources`).
        if (own && !onlyAdds(own, sources)) return undefined;
        for (const component of options.components) {
            if (typeof component !== "string" || component === "" || path.isAbsolute(component)) return undefined;
            const added = await componentResources(path.resolve(dir, component), sources);
            if (!added) return undefined;
            objects.push(...added);
        }
    }
    // A Flux Kustomization's spec.patches (inline only), then its targetNamespace, over the path's build.
    if (options.patches && options.patches.length > 0) objects = await patched(objects, options.patches, dir, sources, false);
    if (objects && options.targetNamespace !== undefined) objects = withNamespace(objects, options.targetNamespace);
    if (!objects || !unique(objects) || !rebindings(objects)) return undefined;
    // kustomize names hashed generators last, then fixes every reference to them (api/internal/target/kusttarget.go,
    // makeCustomizedResMap: addHashesToNames, then FixBackReferences), with the `configurations` of every
    // kustomization the build went through (accumulateTarget merges each level's into the accumulator: MergeConfig,
    // and accumulateDirectory's MergeAccumulator carries them up).
    const references: NameReference[] = [];
    const components = (options.components ?? []).filter((component) => typeof component === "string").map((component) => path.resolve(dir, component));
    const starts = [...(own ? [dir] : (options.generated ?? [])), ...components];
    for (const reached of reachedKustomizations(starts, sources)) {
        const found = nameReferences(reached, sources);
        if (!found) return undefined;
        references.push(...found);
    }
    return objects.some(({ hashed }) => hashed) ? withHashes(objects, [...WORKLOAD_REFERENCES, ...references]) : objects;
}

/** The kustomizations a build from these folders or files goes through (resources and components, included ones too). */
function reachedKustomizations(starts: string[], sources: ComposeSources): KustomizationDir[] {
    const reached = new Map<string, KustomizationDir>();
    const visit = (target: string) => {
        const kustomization = sources.kustomizations.get(target);
        if (!kustomization || reached.has(target)) return;
        reached.set(target, kustomization);
        for (const reference of kustomization.references) visit(reference.target);
    };
    for (const start of starts) visit(start);
    return [...reached.values()];
}

/** A kustomization with no transformer: resources, generators and name-reference configurations only. */
function onlyAdds(kustomization: KustomizationDir, sources: ComposeSources): boolean {
    const content = sources.parsed.get(kustomization.file)?.documents[0];
    const adding = new Set(["apiVersion", "kind", "resources", "configMapGenerator", "secretGenerator", "generatorOptions", "configurations"]);
    return isRecord(content) && Object.keys(content).every((field) => adding.has(field));
}

/** A kustomization whose only fields are apiVersion, kind and resources. */
function onlyResources(kustomization: KustomizationDir, sources: ComposeSources): boolean {
    const content = sources.parsed.get(kustomization.file)?.documents[0];
    return isRecord(content) && Object.keys(content).every((field) => field === "apiVersion" || field === "kind" || field === "resources");
}

/**
 * The objects a kustomize Component adds when its only fields are `apiVersion: kustomize.config.k8s.io/v1alpha1`,
 * `kind: Component` and local `resources` (files of whole objects, folders whose kustomization composes), as
 * onedr0p/home-ops' and carpenike/k8s-gitops' components are; undefined for any other (its patches and generators
 * would act on everything accumulated before it), a missing folder included (Flux refuses it, or with
 * ignoreMissingComponents leaves it out: kustomize decides).
 */
async function componentResources(dir: string, sources: ComposeSources, chain: string[] = []): Promise<ComposedObject[] | undefined> {
    const component = sources.kustomizations.get(dir);
    if (!component) return undefined;
    const parsed = sources.parsed.get(component.file);
    const content = parsed?.documents[0];
    if (!parsed || parsed.problems.length > 0 || parsed.documents.length !== 1 || !isRecord(content)) return undefined;
    if (content.apiVersion !== "kustomize.config.k8s.io/v1alpha1" || content.kind !== "Component" || !onlyResources(component, sources)) return undefined;
    const { resources } = content;
    if (!Array.isArray(resources) || resources.length === 0) return undefined;
    const references = component.references.filter((reference) => reference.role === "resource" && reference.field.startsWith("resources["));
    if (references.length !== resources.length || chain.includes(dir)) return undefined;
    return composeList(
        references.map(({ target }) => target),
        sources,
        [...chain, dir],
    );
}

/** `configurations`: see nameReferences, which composeBuild takes from every kustomization of the build. */
const FIELDS = new Set(["apiVersion", "kind", "resources", "components", "namespace", "configMapGenerator", "secretGenerator", "generatorOptions", "patchesStrategicMerge", "patches", "commonLabels", "labels", "configurations"]);

async function composeKustomization(kustomization: KustomizationDir, sources: ComposeSources, chain: string[]): Promise<ComposedObject[] | undefined> {
    if (chain.includes(kustomization.dir)) return undefined;
    const parsed = sources.parsed.get(kustomization.file);
    const content = parsed?.documents[0];
    // Its literals and names as go-yaml reads them: a kustomization file that may read otherwise is left to kustomize.
    if (!parsed || !parsed.plain || parsed.problems.length > 0 || parsed.documents.length !== 1 || !isRecord(content)) return undefined;
    if (!Object.keys(content).every((field) => FIELDS.has(field))) return undefined;
    if (content.apiVersion !== undefined && content.apiVersion !== "kustomize.config.k8s.io/v1beta1") return undefined;
    if (content.kind !== undefined && content.kind !== "Kustomization") return undefined;
    const { resources, components, namespace, configMapGenerator, secretGenerator, generatorOptions, patches, patchesStrategicMerge, commonLabels, labels } = content;
    // No resources field and no generator: kustomize refuses an empty kustomization ("kustomization.yaml is
    // empty"), Flux rewrites it (see fluxTree.ts). `resources: []` builds into nothing (xunholy/k8s-gitops'
    // repositories/git; tried with kubectl). A kustomization of generators alone (bjw-s/home-ops' Grafana
    // dashboards) builds into what they generate.
    const generates = (Array.isArray(configMapGenerator) && configMapGenerator.length > 0) || (Array.isArray(secretGenerator) && secretGenerator.length > 0);
    if (resources === undefined ? !generates : !Array.isArray(resources)) return undefined;
    const remote = (value: unknown) => sources.omitRemote === true && typeof value === "string" && isRemote(value);
    const listed = ((resources ?? []) as unknown[]).filter((value) => !remote(value));
    const references = kustomization.references.filter((reference) => reference.role === "resource" && reference.field.startsWith("resources["));
    // A remote resource, or a value that is no path, is not among the local references.
    if (references.length !== listed.length) return undefined;
    const objects = await composeList(
        references.map(({ target }) => target),
        sources,
        [...chain, kustomization.dir],
    );
    if (!objects) return undefined;
    // kustomize's generators in their order: ConfigMaps, then Secrets (kusttarget_configplugin.go, configureBuiltinGenerators).
    for (const [kind, generators] of [["ConfigMap", configMapGenerator], ["Secret", secretGenerator]] as const) {
        if (generators === undefined) continue;
        // A hashed name is given at the end of the whole build (composeBuild, withHashes).
        const generated = await generate(kind, generators, generatorOptions, kustomization, sources.omitRemote === true);
        if (!generated) return undefined;
        objects.push(...generated);
    }
    if (configMapGenerator === undefined && secretGenerator === undefined && generatorOptions !== undefined) return undefined;
    // Components, after the generators and before the transformers (kusttarget.go, accumulateTarget), where each only
    // adds resources (xunholy/k8s-gitops' components/common, which adds alerts to every namespace folder).
    if (components !== undefined) {
        if (!Array.isArray(components) || components.length === 0) return undefined;
        for (const component of components) {
            if (typeof component !== "string" || component === "" || path.isAbsolute(component)) return undefined;
            if (isRemote(component)) {
                if (sources.omitRemote === true) continue;
                return undefined;
            }
            const added = await componentResources(path.resolve(kustomization.dir, component), sources, [...chain, kustomization.dir]);
            if (!added) return undefined;
            objects.push(...added);
        }
    }
    // kustomize's transformers run in a fixed order: patchesStrategicMerge, patches, then the namespace, then labels
    // (api/internal/target/kusttarget_configplugin.go, the order of transformerConfigurators).
    let result: ComposedObject[] | undefined = objects;
    if (patchesStrategicMerge !== undefined) result = unique(objects) ? await strategicMergeFiles(objects, patchesStrategicMerge, kustomization.dir, sources) : undefined;
    if (!result) return undefined;
    if (patches !== undefined) result = Array.isArray(patches) && unique(result) ? await patched(result, patches, kustomization.dir, sources, true) : undefined;
    if (!result) return undefined;
    if (namespace !== undefined) {
        if (typeof namespace !== "string") return undefined;
        // An empty namespace is no transformer at all.
        result = namespace === "" ? result : withNamespace(result, namespace);
        if (!result) return undefined;
    }
    if (commonLabels !== undefined || labels !== undefined) {
        const pairs = labelPairs(commonLabels, labels, result);
        result = pairs && withLabels(result, pairs);
        if (!result) return undefined;
    }
    return unique(result) ? result : undefined;
}

/**
 * Kinds whose fields other than metadata.labels kustomize's commonLabels (and `labels` with includeSelectors) set:
 * selectors and templates (api/internal/konfig/builtinpluginconsts/commonlabels.go and metadatalabels.go), matched
 * by kind alone here (whatever the group), so a custom kind of such a name is declined too.
 */
const LABELLED_BEYOND_METADATA = new Set(["Service", "ReplicationController", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob", "PodDisruptionBudget", "NetworkPolicy"]);

/**
 * The labels a kustomization's `commonLabels` (a map of strings) or `labels` (entries of `pairs` alone, or with
 * `includeSelectors: true`) set, when they set nothing but metadata.labels on these objects: `labels` without
 * includeSelectors and includeTemplates uses the one field spec `metadata/labels` (kusttarget_configplugin.go,
 * LabelTransformer: `fs.MergeOne(metadata/labels, create)`); commonLabels and includeSelectors also set selectors
 * and templates of the kinds above, so no object may be of them. Both fields at once, `fields`, includeTemplates,
 * or a value that is not a string: undefined (kustomize builds it).
 */
function labelPairs(commonLabels: unknown, labels: unknown, objects: ComposedObject[]): Record<string, string> | undefined {
    const strings = stringMap;
    const selectorsToo = () => objects.every(({ object }) => !LABELLED_BEYOND_METADATA.has(String(object.kind)));
    if (commonLabels !== undefined && labels !== undefined) return undefined;
    if (commonLabels !== undefined) return strings(commonLabels) && selectorsToo() ? commonLabels : undefined;
    if (!Array.isArray(labels) || labels.length === 0) return undefined;
    const pairs: Record<string, string> = {};
    for (const entry of labels) {
        if (!isRecord(entry) || !Object.keys(entry).every((field) => field === "pairs" || field === "includeSelectors") || !strings(entry.pairs)) return undefined;
        if (entry.includeSelectors !== undefined && entry.includeSelectors !== false && !(entry.includeSelectors === true && selectorsToo())) return undefined;
        // Each entry is one transformer, in order: a later entry's value wins.
        Object.assign(pairs, entry.pairs);
    }
    return pairs;
}

/** The pairs set on every object's metadata.labels (created where absent); undefined where labels is not a map. */
function withLabels(objects: ComposedObject[], pairs: Record<string, string>): ComposedObject[] | undefined {
    const labelled: ComposedObject[] = [];
    for (const item of objects) {
        const metadata = item.object.metadata as Record<string, unknown>;
        if (metadata.labels !== undefined && !isRecord(metadata.labels)) return undefined;
        labelled.push({ ...item, object: { ...item.object, metadata: { ...metadata, labels: { ...(metadata.labels as Record<string, unknown> | undefined), ...pairs } } } });
    }
    return labelled;
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
        } else if (file && !isKustomizationFile(target) && file.problems.length === 0) {
            // A file go-yaml reads otherwise (see yamlFiles.ts): its documents as kustomize reads them, where certain.
            const documents = file.plain ? file.documents : goYamlDocuments(await readFile(target, "utf8").catch(() => ""));
            if (!documents || !documents.every(isWholeObject)) return undefined;
            objects.push(...(documents as Record<string, unknown>[]).map((object) => ({ object, file: target })));
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

/**
 * No two objects share a kind, a name and a namespace (kustomize refuses them, or with `behavior` merges them): two
 * of one name in different namespaces are two objects to kustomize too (resid.go, Equals: the effective namespace,
 * an absent one being `default`), as xunholy/k8s-gitops' alerts added to each namespace folder by one component. A
 * built-in kind not known here to be namespaced is taken as cluster-scoped (its namespace not told apart).
 */
function unique(objects: ComposedObject[]): boolean {
    const ids = new Set<string>();
    for (const { object } of objects) {
        const metadata = object.metadata as { name: string; namespace?: unknown };
        const apiVersion = String(object.apiVersion);
        const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
        const namespaced = !BUILT_IN_GROUPS.has(group) || NAMESPACED.has(group === "" ? String(object.kind) : `${group}/${object.kind}`);
        const namespace = namespaced ? String(metadata.namespace === undefined || metadata.namespace === "" ? "default" : metadata.namespace) : "";
        const id = `${object.kind}/${metadata.name}/${namespace}`;
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
    // Cluster-scoped in Kubernetes, but newer than the schema kustomize v5.5.0 embeds (kyaml/openapi, Kubernetes
    // v1.21.2), which takes a kind it does not know as namespaced: kustomize sets their metadata.namespace (tried with
    // kubectl for v1alpha1, v1beta1 and v1: tests/validate/composedBuild.test.ts). xunholy/k8s-gitops' volsync.
    "admissionregistration.k8s.io/MutatingAdmissionPolicy",
    "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding",
    "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
    "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
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
    for (const { object, file, hashed } of objects) {
        const apiVersion = String(object.apiVersion);
        const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
        const kind = String(object.kind);
        // A v1 Namespace takes the namespace as its name (kustomize's namespace field spec `metadata/name` of kind
        // Namespace): one of that name already stays as it is (xunholy/k8s-gitops' namespace folders).
        const unchangedNamespace = apiVersion === "v1" && kind === "Namespace" && (object.metadata as Record<string, unknown>).name === namespace;
        if (CLUSTER_SCOPED.has(`${apiVersion}/${kind}`) || unchangedNamespace) {
            placed.push({ object, file, hashed });
            continue;
        }
        // The namespace filter's roleBindingHack (api/filters/namespace/namespace.go, kustomize v5.5.0) picks
        // bindings by kind alone, whatever the group: the rbac ones are followed below, a custom one is declined.
        if (kind === "RoleBinding" || kind === "ClusterRoleBinding") {
            if (apiVersion !== "rbac.authorization.k8s.io/v1") return undefined;
            const bound = withSubjectsNamespace(object, namespace);
            if (!bound) return undefined;
            placed.push({ object: kind === "RoleBinding" ? { ...bound, metadata: { ...(bound.metadata as Record<string, unknown>), namespace } } : bound, file, hashed, rebound: true });
            continue;
        }
        if (BUILT_IN_GROUPS.has(group) && !NAMESPACED.has(group === "" ? kind : `${group}/${kind}`)) return undefined;
        placed.push({ object: { ...object, metadata: { ...(object.metadata as Record<string, unknown>), namespace } }, file, hashed });
    }
    return placed;
}

/**
 * Whether no binding a namespace transformer went over names a ServiceAccount of the build among its subjects:
 * kustomize's name references (namereference.go, `kind: ServiceAccount`, `subjects` of RoleBinding and
 * ClusterRoleBinding) then also give the subject the ServiceAccount's new namespace (bjw-s/home-ops' and
 * carpenike/k8s-gitops' bindings under a targetNamespace, found by compare-builds): not followed.
 */
function rebindings(objects: ComposedObject[]): boolean {
    const accounts = new Set(objects.filter(({ object }) => object.kind === "ServiceAccount").map(({ object }) => (object.metadata as Record<string, unknown>).name));
    return objects.every(
        ({ object, rebound }) => !rebound || !Array.isArray(object.subjects) || !object.subjects.some((subject) => isRecord(subject) && subject.kind === "ServiceAccount" && accounts.has(subject.name)),
    );
}

/**
 * A RoleBinding's or ClusterRoleBinding's subjects under kustomize's namespace transformer (a kustomization's
 * `namespace`, whose setRoleBindingSubjects is unset: `defaultOnly`): each subject named `default` gets the
 * namespace, created where absent (namespace.go, setSubjectsNamedDefault); the others, whatever their kind, stay
 * (xunholy/k8s-gitops' ClusterRoleBindings of Groups under a targetNamespace). A ClusterRoleBinding is cluster-scoped:
 * its metadata.namespace stays (metaNamespaceHack). Undefined where subjects is not a list of maps with string names.
 */
function withSubjectsNamespace(object: Record<string, unknown>, namespace: string): Record<string, unknown> | undefined {
    const { subjects } = object;
    if (subjects === undefined || subjects === null) return object;
    if (!Array.isArray(subjects) || !subjects.every((subject) => isRecord(subject) && typeof subject.name === "string")) return undefined;
    return { ...object, subjects: subjects.map((subject: Record<string, unknown>) => (subject.name === "default" ? { ...subject, namespace } : subject)) };
}

/** A field of custom kinds that names a ConfigMap or a Secret (`to`), from a kustomization's `configurations` (nameReference). */
type NameReference = { to: "ConfigMap" | "Secret"; kind: string; group?: string; version?: string; path: string[] };

/**
 * The ConfigMap and Secret references a kustomization's `configurations` files declare, in the only form composed:
 * each file a document `{nameReference: [{kind: ConfigMap or Secret, version: v1, fieldSpecs: [{path, kind, group?,
 * version?}]}]}`, as the fleets' `kustomizeconfig.yaml` names HelmRelease `spec/valuesFrom/name`; a path of plain `/`-separated field names
 * (no `[name=x]` selectors or escapes), no `create`. Undefined (kustomize builds it): anything else.
 */
function nameReferences(kustomization: KustomizationDir, sources: ComposeSources): NameReference[] | undefined {
    const content = sources.parsed.get(kustomization.file)?.documents[0];
    if (!isRecord(content) || content.configurations === undefined) return [];
    if (!Array.isArray(content.configurations)) return undefined;
    const references: NameReference[] = [];
    for (const file of content.configurations) {
        if (typeof file !== "string" || /^[a-z]+:\/\//.test(file)) return undefined;
        const parsed = sources.parsed.get(path.resolve(kustomization.dir, file));
        const config = parsed?.documents[0];
        if (!parsed || !parsed.plain || parsed.problems.length > 0 || parsed.documents.length !== 1 || !isRecord(config)) return undefined;
        if (!Object.keys(config).every((field) => field === "nameReference") || !Array.isArray(config.nameReference)) return undefined;
        for (const entry of config.nameReference) {
            if (!isRecord(entry) || !Object.keys(entry).every((field) => ["kind", "version", "group", "fieldSpecs"].includes(field))) return undefined;
            if ((entry.kind !== "ConfigMap" && entry.kind !== "Secret") || (entry.version !== undefined && entry.version !== "v1") || (entry.group !== undefined && entry.group !== "") || !Array.isArray(entry.fieldSpecs)) return undefined;
            for (const spec of entry.fieldSpecs) {
                if (!isRecord(spec) || !Object.keys(spec).every((field) => ["path", "kind", "group", "version"].includes(field))) return undefined;
                const { path: fieldPath, kind, group, version } = spec;
                if (typeof fieldPath !== "string" || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(fieldPath)) return undefined;
                if (typeof kind !== "string" || kind === "" || (group !== undefined && typeof group !== "string") || (version !== undefined && typeof version !== "string")) return undefined;
                references.push({ to: entry.kind, kind, group: group || undefined, version: version || undefined, path: fieldPath.split("/") });
            }
        }
    }
    return references;
}

/**
 * Kinds that kustomize's built-in name references let point at a ConfigMap, whatever their group
 * (api/internal/konfig/builtinpluginconsts/namereference.go, `kind: ConfigMap`): a build holding one of them is not
 * composed with hashed names (their many fields are not followed here).
 */
const REFERRERS = {
    // The workloads' references to ConfigMaps are followed (WORKLOAD_REFERENCES); these others are not, unless the
    // object has none of their fields (withoutConfigMapReference).
    ConfigMap: new Set(["Node", "Role", "ClusterRole", "Ingress"]),
    // namereference.go, `kind: Secret`.
    Secret: new Set(["Pod", "PodTemplate", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob", "Role", "ClusterRole", "Ingress", "ServiceAccount", "PersistentVolume", "StorageClass"]),
};

/**
 * Whether a Role, ClusterRole, Ingress or Node has none of the fields kustomize's built-in references to ConfigMaps
 * name in it (namereference.go: `rules/resourceNames`, the Ingress annotation
 * `nginx.ingress.kubernetes.io/fastcgi-params-configmap`, `spec/configSource/configMap`), so that renaming a
 * ConfigMap cannot change it (controlplaneio-fluxcd/d2-infra's monitoring ClusterRole beside Grafana dashboards).
 */
function withoutConfigMapReference(object: Record<string, unknown>): boolean {
    const metadata = object.metadata as Record<string, unknown>;
    if (object.kind === "Role" || object.kind === "ClusterRole") {
        return object.rules === undefined || (Array.isArray(object.rules) && object.rules.every((rule) => isRecord(rule) && rule.resourceNames === undefined));
    }
    if (object.kind === "Ingress") return !isRecord(metadata.annotations) || !("nginx.ingress.kubernetes.io/fastcgi-params-configmap" in metadata.annotations);
    if (object.kind === "Node") return !isRecord(object.spec) || object.spec.configSource === undefined;
    return false;
}

/**
 * kustomize's built-in references of workloads to ConfigMaps (namereference.go, `kind: ConfigMap`): in each pod spec
 * (Pod's own `spec` of core v1; PodTemplate's `template/spec`; Deployment, ReplicaSet, DaemonSet, StatefulSet and
 * Job's `spec/template/spec`; CronJob's `spec/jobTemplate/spec/template/spec`, these of any group, as kustomize
 * matches them by kind), volumes' configMap and projected sources' configMap names, and containers' and init
 * containers' env configMapKeyRef and envFrom configMapRef names (xunholy/k8s-gitops' azerothcore Job mounts a
 * hashed ConfigMap).
 */
const WORKLOAD_REFERENCES: NameReference[] = (
    [
        ["Pod", "spec"],
        ["PodTemplate", "template/spec"],
        ...["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job"].map((kind) => [kind, "spec/template/spec"]),
        ["CronJob", "spec/jobTemplate/spec/template/spec"],
    ] as const
).flatMap(([kind, podSpec]) =>
    [
        "volumes/configMap/name",
        "containers/env/valueFrom/configMapKeyRef/name",
        "initContainers/env/valueFrom/configMapKeyRef/name",
        "containers/envFrom/configMapRef/name",
        "initContainers/envFrom/configMapRef/name",
        "volumes/projected/sources/configMap/name",
    ].map((field) => ({ to: "ConfigMap" as const, kind, ...(kind === "Pod" ? { group: "", version: "v1" } : {}), path: `${podSpec}/${field}`.split("/") })),
);

/**
 * The hashed ConfigMaps and Secrets named `<name>-<hash>` and the references to them fixed, as kustomize does at the
 * end of a build; undefined where not certain.
 * - The hash (api/hasher/hasher.go, encodeConfigMap, encodeSecret and encode): sha256 of Go's json.Marshal of
 *   `{"data": data, "kind": "ConfigMap", "name": ""}` or `{"data": data, "kind": "Secret", "name": "", "type": type}`
 *   (a Secret's data base64 as the Secret holds it; the name is never found: see generatedHash; keys sorted; `<`, `>`, `&`, U+2028 and U+2029 escaped as
 *   Go escapes them), its first 10 hex digits with 0, 1, 3, a, e written g, h, k, m, t. A key or value holding a
 *   control character other than tab, line feed and carriage return is declined (Go and JSON.stringify write
 *   those differently across versions).
 * - The references (api/filters/nameref/nameref.go, setScalar and selectReferral): each field a `configurations`
 *   fieldSpec names in an object of its kind (and group and version, where given), followed through maps and
 *   every item of a list (api/filters/fieldspec), whose string value is a hashed ConfigMap's name and whose object
 *   is in the same namespace as the ConfigMap, takes the new name; so do the workloads' (WORKLOAD_REFERENCES).
 *   Declined: a build with another built-in referrer kind, such a value in another namespace (kustomize compares
 *   namespaces with `default` rules not followed here), a path that meets a scalar before its end (kustomize fails),
 *   a value that is not a string.
 */
function withHashes(objects: ComposedObject[], references: NameReference[]): ComposedObject[] | undefined {
    const renamed = { ConfigMap: new Map<string, { namespace: unknown; name: string }>(), Secret: new Map<string, { namespace: unknown; name: string }>() };
    const result: ComposedObject[] = [];
    for (const item of objects) {
        if (!item.hashed) {
            result.push(item);
            continue;
        }
        const kind = item.object.kind as "ConfigMap" | "Secret";
        if (objects.some(({ object }) => REFERRERS[kind].has(String(object.kind)) && !(kind === "ConfigMap" && withoutConfigMapReference(object)))) return undefined;
        const metadata = item.object.metadata as Record<string, unknown>;
        const name = String(metadata.name);
        // kustomize's name references do not look at a `kind` beside the name (nameref.go checks it for roleRef
        // only): a name that a ConfigMap and a Secret share could be renamed after either.
        if (objects.some(({ object }) => object !== item.object && (object.kind === "ConfigMap" || object.kind === "Secret") && (object.metadata as Record<string, unknown>).name === name)) return undefined;
        const hash = generatedHash(item.object);
        if (!hash || renamed[kind].has(name)) return undefined;
        renamed[kind].set(name, { namespace: metadata.namespace, name: `${name}-${hash}` });
        const { hashed: _hashed, ...rest } = item;
        result.push({ ...rest, object: { ...item.object, metadata: { ...metadata, name: `${name}-${hash}` } } });
    }
    for (let i = 0; i < result.length; i++) {
        const { object } = result[i];
        const apiVersion = String(object.apiVersion);
        const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
        const namespace = (object.metadata as Record<string, unknown>).namespace;
        let copy: Record<string, unknown> | undefined;
        for (const reference of references) {
            if (reference.kind !== object.kind || (reference.group !== undefined && reference.group !== group) || (reference.version !== undefined && reference.version !== version)) continue;
            copy ??= structuredClone(object);
            const fixed = fixReferences(copy, reference.path, (value) => {
                if (typeof value !== "string") return value === null ? null : undefined;
                const target = renamed[reference.to].get(value);
                if (!target) return value;
                return target.namespace === namespace ? target.name : undefined;
            });
            if (!fixed) return undefined;
        }
        if (copy) result[i] = { ...result[i], object: copy };
    }
    return result;
}

/** Applies `rename` to the values at `fieldPath` (through maps and list items) in place; false where not certain. */
function fixReferences(node: Record<string, unknown>, fieldPath: string[], rename: (value: unknown) => unknown): boolean {
    const [field, ...rest] = fieldPath;
    if (!(field in node) || node[field] === null) return true;
    const value = node[field];
    if (rest.length === 0) {
        if (Array.isArray(value)) {
            for (let i = 0; i < value.length; i++) {
                const next = rename(value[i]);
                if (next === undefined) return false;
                value[i] = next;
            }
            return true;
        }
        const next = rename(value);
        if (next === undefined) return false;
        node[field] = next;
        return true;
    }
    const children = Array.isArray(value) ? value : [value];
    return children.every((child) => child === null || (isRecord(child) && fixReferences(child, rest, rename)));
}

/** kustomize's name suffix for a generated ConfigMap or Secret (see withHashes); undefined where not certain. */
function generatedHash(object: Record<string, unknown>): string | undefined {
    const data = object.data as Record<string, string>;
    const strings = [...Object.keys(data), ...Object.values(data)];
    if (strings.some((value) => typeof value !== "string" || !value.isWellFormed() || /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value))) return undefined;
    const goString = (value: string) =>
        JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const keys = Object.keys(data).sort();
    // The name hashed is "": getNodeValues looks `metadata/name` up as one field name (yaml.Lookup("metadata/name")),
    // finds none and takes "" (what kubectl 1.32 writes confirms it: tests/validate/composedBuild.test.ts).
    const encoded = `{${keys.map((key) => `${goString(key)}:${goString(data[key])}`).join(",")}}`;
    const json =
        object.kind === "Secret" ? `{"data":${encoded},"kind":"Secret","name":"","type":${goString(String(object.type))}}` : `{"data":${encoded},"kind":"ConfigMap","name":""}`;
    const hex = createHash("sha256").update(json, "utf8").digest("hex");
    const map: Record<string, string> = { "0": "g", "1": "h", "3": "k", a: "m", e: "t" };
    return [...hex.slice(0, 10)].map((c) => map[c] ?? c).join("");
}

const GENERATOR_FIELDS = new Set(["name", "namespace", "behavior", "files", "literals", "options"]);
const SECRET_GENERATOR_FIELDS = new Set([...GENERATOR_FIELDS, "type"]);
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The ConfigMaps of a configMapGenerator, or the Secrets of a secretGenerator, as kustomize generates them, or
 * undefined (not composed). A Secret (api/internal/generators/secret.go, MakeSecret) has `type` (the generator's, or
 * Opaque) and its data base64-encoded, whatever the bytes (kyaml datamap.go, encodeBase64: in lines of 70
 * characters, each ended by a line break, once there are 70 or more); xunholy/k8s-gitops' and toboshii/home-ops'
 * generate Secrets from SOPS-encrypted files, which kustomize-controller decrypts first and which stay as they are here.
 */
async function generate(kind: "ConfigMap" | "Secret", generators: unknown, globalOptions: unknown, kustomization: KustomizationDir, omitRemote: boolean): Promise<ComposedObject[] | undefined> {
    if (!Array.isArray(generators)) return undefined;
    const global = generatorOptions(globalOptions);
    if (!global) return undefined;
    const generated: ComposedObject[] = [];
    for (const generator of generators) {
        if (!isRecord(generator) || !Object.keys(generator).every((field) => (kind === "Secret" ? SECRET_GENERATOR_FIELDS : GENERATOR_FIELDS).has(field))) return undefined;
        const { name, namespace, behavior, files, literals, options, type } = generator;
        if (type !== undefined && (typeof type !== "string" || !/^[A-Za-z0-9./_-]*$/.test(type))) return undefined;
        if (typeof name !== "string" || name === "" || (namespace !== undefined && typeof namespace !== "string")) return undefined;
        if (behavior !== undefined && behavior !== "create") return undefined;
        const local = generatorOptions(options);
        if (!local) return undefined;
        // kustomize's MergeGlobalOptionsIntoLocal (api/types/generatoroptions.go): a generator's own labels and
        // annotations win over the kustomization's generatorOptions, and disableNameSuffixHash is true if either is.
        const hashed = global.disableNameSuffixHash !== true && local.disableNameSuffixHash !== true;
        const labels = global.labels || local.labels ? { ...global.labels, ...local.labels } : undefined;
        const annotations = global.annotations || local.annotations ? { ...global.annotations, ...local.annotations } : undefined;
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
                const value = withoutQuotes(literal.slice(at + 1));
                if (!add(literal.slice(0, at), kind === "Secret" ? base64Lines(Buffer.from(value, "utf8")) : value)) return undefined;
            }
        }
        if (files !== undefined) {
            if (!Array.isArray(files)) return undefined;
            for (const source of files) {
                if (typeof source !== "string") return undefined;
                if (omitRemote && isRemote(source.slice(source.indexOf("=") + 1))) continue;
                const parts = source.split("=");
                if (parts.length > 2 || parts.some((part) => part === "")) return undefined;
                const [key, file] = parts.length === 2 ? parts : [path.posix.basename(source), source];
                const content = await readFile(path.resolve(kustomization.dir, file)).catch(() => undefined);
                if (!content) return undefined;
                let text: string;
                if (kind === "Secret") text = base64Lines(content);
                else {
                    try {
                        text = utf8.decode(content);
                    } catch {
                        return undefined; // kustomize puts it in binaryData
                    }
                }
                if (!add(key, text)) return undefined;
            }
        }
        // Nothing left (toboshii/home-ops' Grafana dashboards, whose files are all URLs): kustomize generates a
        // ConfigMap without data (tried with kubectl); its hash, a Secret's empty data: not followed.
        const empty = Object.keys(data).length === 0;
        if (empty && (kind === "Secret" || hashed || literals !== undefined || !Array.isArray(files) || files.length === 0)) return undefined;
        const metadata: Record<string, unknown> = { name };
        if (namespace !== undefined && namespace !== "") metadata.namespace = namespace;
        if (labels) metadata.labels = labels;
        if (annotations) metadata.annotations = annotations;
        const object = kind === "Secret" ? { apiVersion: "v1", kind, metadata, type: type || "Opaque", data } : { apiVersion: "v1", kind, metadata, ...(empty ? {} : { data }) };
        generated.push({ object, file: kustomization.file, ...(hashed ? { hashed } : {}) });
    }
    return generated;
}

/** kyaml's encodeBase64 (datamap.go): standard base64, cut in lines of 70 characters, each ended by "\n", where it is 70 or longer. */
function base64Lines(content: Buffer): string {
    const encoded = content.toString("base64");
    if (encoded.length < 70) return encoded;
    return encoded.replace(/.{1,70}/g, "$&\n");
}

type GeneratorOptions = { disableNameSuffixHash?: boolean; labels?: Record<string, string>; annotations?: Record<string, string> };

/**
 * generatorOptions (a kustomization's or a generator's `options`) that are composed: `disableNameSuffixHash`, and
 * `labels` and `annotations` (maps of strings, not empty), which kustomize sets on each generated object's metadata
 * (api/internal/generators/utils.go, makeBaseNode / setLabelsAndAnnnotations). Undefined: anything else
 * (`immutable`, `fileMerge`, a value that is not a string), left to kustomize.
 */
function generatorOptions(options: unknown): GeneratorOptions | undefined {
    if (options === undefined) return {};
    if (!isRecord(options)) return undefined;
    const result: GeneratorOptions = {};
    for (const [field, value] of Object.entries(options)) {
        if (field === "disableNameSuffixHash" && typeof value === "boolean") result.disableNameSuffixHash = value;
        else if ((field === "labels" || field === "annotations") && stringMap(value)) {
            result[field] = value;
        } else return undefined;
    }
    return result;
}

/**
 * A map of strings, not empty, whose keys and values kustomize reads as strings too. kustomize reads a kustomization
 * file with sigs.k8s.io/yaml, which resolves plain scalars as YAML 1.1 does (goyaml.v2): `yes`, `on`, `y`, `off`…
 * are booleans there, `1_000`, `0b1`, `1:20` numbers, `2001-12-14` a timestamp, where this parser (YAML 1.2) reads
 * strings; kustomize then refuses a boolean label value or reads another string. Whether such a string was quoted is
 * not known here: each is declined (`true`, `1` and the like are no strings here unless quoted: kept).
 */
function stringMap(value: unknown): value is Record<string, string> {
    return isRecord(value) && Object.keys(value).length > 0 && Object.entries(value).every(([key, entry]) => typeof entry === "string" && yaml11String(key) && yaml11String(entry));
}

function yaml11String(value: string): boolean {
    if (/^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(value)) return false;
    // A string that YAML 1.2 would read as a number ("1", "2.5") was quoted: a string to both. One that only YAML 1.1
    // reads as a number or a time (`1_000`, `1:20`, `0b1`, `0x_1`, `2001-12-14`) may have been plain: declined.
    return !(/^[-+]?[0-9.]/.test(value) && (/[_:]/.test(value) || /^[-+]?0[bBoOxX]/.test(value) || /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/.test(value)));
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

const PATCH_FIELDS = new Set(["path", "patch", "target"]);
const TARGET_FIELDS = new Set(["group", "version", "kind", "name", "labelSelector"]);

/**
 * kustomize's `patches` with a target, strategic-merge patches of custom resources (no built-in kind: their merge
 * keys and strategies are another matter): for custom resources kustomize has no schema, so it merges maps key by
 * key and replaces lists and scalars whole (a list of objects with `name` keys included), keeps each target's
 * apiVersion, kind, name and namespace, and sets what the patch adds (an empty map or list too); and JSON 6902
 * patches (a list of operations: `jsonPatched`, any kind). Declined: a patch without a target, one without a kind
 * or a metadata.name (kustomize refuses it), a null (a deletion) or `$patch`-style directive in it, a target by
 * namespace or annotation, a label selector other than `key=value`, `key!=value`, `key` and `!key` terms (`in`,
 * `notin`, ...), a name that is a regular expression, and a patch file where `files` is false (Flux's
 * spec.patches are inline).
 */
async function patched(objects: ComposedObject[], patches: unknown[], dir: string, sources: ComposeSources, files: boolean): Promise<ComposedObject[] | undefined> {
    let result = objects;
    for (const entry of patches) {
        if (!isRecord(entry) || !Object.keys(entry).every((field) => PATCH_FIELDS.has(field))) return undefined;
        const { path: patchPath, patch, target } = entry;
        if (!isRecord(target) || !Object.keys(target).every((field) => TARGET_FIELDS.has(field))) return undefined;
        const { labelSelector, ...exact } = target;
        if (!Object.values(exact).every((value) => typeof value === "string" && /^[A-Za-z0-9_-]*$/.test(value.replaceAll(".", "_")))) return undefined;
        const labels = labelSelector === undefined ? [] : selectorTerms(labelSelector);
        if (!labels) return undefined;
        if (typeof target.name === "string" && !/^[A-Za-z0-9_-]+$/.test(target.name)) return undefined;
        let document: unknown;
        if (typeof patch === "string" && patchPath === undefined) {
            const parsed = parseYamlText("patch", patch);
            if (parsed.problems.length > 0 || parsed.documents.length !== 1 || !parsed.plain) return undefined;
            document = parsed.documents[0];
        } else if (typeof patchPath === "string" && patch === undefined && files) {
            const parsed = sources.parsed.get(path.resolve(dir, patchPath));
            if (!parsed || parsed.problems.length > 0 || parsed.documents.length !== 1 || !parsed.plain) return undefined;
            document = parsed.documents[0];
        } else {
            return undefined;
        }
        // A target that selects nothing leaves the objects as they are (PatchTransformer.go, transformStrategicMerge:
        // m.ApplySmPatch of an empty id set; transformJson6902: no resource selected), once the patch parsed as an
        // object (checked in strategicMerge) or a list of operations (jsonPatched).
        const chosen = (object: Record<string, unknown>) => selects(exact, object) && labels.every((term) => term(object));
        const next = Array.isArray(document) ? jsonPatchedAll(result, document, chosen, sources) : await strategicMerge(result, document, chosen);
        if (!next) return undefined;
        result = next;
    }
    return result;
}

/** A JSON 6902 patch (a list of operations) applied to each object `chosen` selects: see jsonPatched. */
function jsonPatchedAll(objects: ComposedObject[], operations: unknown[], chosen: (object: Record<string, unknown>) => boolean, sources: ComposeSources): ComposedObject[] | undefined {
    const next: ComposedObject[] = [];
    for (const item of objects) {
        if (!chosen(item.object)) {
            next.push(item);
            continue;
        }
        // kustomize patches the object's JSON and reads it back (kyaml's patchjson6902 filter): the YAML styles are
        // gone, so a value this project takes as kustomize writes it back (yamlFiles.ts, kustomizeFolded) would not
        // be; an object from a file not read the same in go-yaml is declined, and so is one holding a null.
        if (sources.parsed.get(item.file)?.plain !== true || !mergeable(item.object, false)) return undefined;
        const patchedObject = jsonPatched(item.object, operations);
        if (!patchedObject) return undefined;
        next.push({ ...item, object: patchedObject });
    }
    return next;
}

/**
 * RFC 6902 (evanphx/json-patch, which kustomize's JSON patches use) where certain: `add`, `replace` and `remove`
 * at a path of map keys only (`~1` and `~0` unescaped), every map on the way present; `replace` and `remove` of a
 * key that is there; `add` sets the key (replacing a value there). Declined: other operations, a path through a list
 * or to the object's apiVersion, kind, metadata, name or namespace, a value holding a null or a string YAML 1.1
 * reads otherwise (`yaml11Same`).
 */
function jsonPatched(object: Record<string, unknown>, operations: unknown[]): Record<string, unknown> | undefined {
    const result = structuredClone(object);
    if (operations.length === 0) return undefined;
    for (const operation of operations) {
        if (!isRecord(operation) || !Object.keys(operation).every((field) => field === "op" || field === "path" || field === "value")) return undefined;
        const { op, path: pointer, value } = operation;
        if ((op !== "add" && op !== "replace" && op !== "remove") || typeof pointer !== "string" || !pointer.startsWith("/")) return undefined;
        if ((op === "remove") !== (value === undefined) || (value !== undefined && (!mergeable(value, false) || !yaml11Same(value)))) return undefined;
        const tokens = pointer.slice(1).split("/");
        if (tokens.some((token) => token === "" || /~([^01]|$)/.test(token))) return undefined;
        const keys = tokens.map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
        if (keys[0] === "apiVersion" || keys[0] === "kind" || (keys[0] === "metadata" && (keys.length < 2 || keys[1] === "name" || keys[1] === "namespace"))) return undefined;
        let parent: Record<string, unknown> = result;
        for (const key of keys.slice(0, -1)) {
            const next = parent[key];
            if (!isRecord(next)) return undefined;
            parent = next;
        }
        const last = keys[keys.length - 1];
        if (op !== "add" && !Object.hasOwn(parent, last)) return undefined;
        if (op === "remove") delete parent[last];
        else parent[last] = structuredClone(value);
    }
    return result;
}

/**
 * Whether every string of a value (keys too) reads as that string in YAML 1.1: kustomize reads a JSON 6902 patch with
 * sigs.k8s.io/yaml (goyaml.v2), where `value: y` is true (tried with kubectl: the annotation came out "true").
 */
function yaml11Same(value: unknown): boolean {
    if (typeof value === "string") return yaml11String(value);
    if (Array.isArray(value)) return value.every(yaml11Same);
    if (isRecord(value)) return Object.entries(value).every(([key, entry]) => yaml11String(key) && yaml11Same(entry));
    return true;
}

/**
 * kustomize's strategic merge of one patch document (an object with a kind and a metadata.name: kustomize refuses
 * a patch without them) into each object `chosen` selects, custom resources only: see `patched`. The target keeps
 * its apiVersion, kind, name and namespace (resource.go, ApplySmPatch; a patch's other apiVersion too, tried with
 * kubectl).
 */
async function strategicMerge(objects: ComposedObject[], document: unknown, chosen: (object: Record<string, unknown>) => boolean): Promise<ComposedObject[] | undefined> {
    if (!isRecord(document) || !mergeable(document)) return undefined;
    const { apiVersion: _apiVersion, kind: _kind, metadata, ...rest } = document;
    if (typeof document.kind !== "string" || document.kind === "" || !isRecord(metadata) || typeof metadata.name !== "string" || metadata.name === "") return undefined;
    const { name: _name, namespace: _namespace, ...metadataRest } = metadata;
    const changes: Record<string, unknown> = { ...rest, metadata: metadataRest };
    const next: ComposedObject[] = [];
    for (const item of objects) {
        if (!chosen(item.object)) {
            next.push(item);
            continue;
        }
        if (builtIn(item.object)) return undefined;
        const object = await withoutEmptyNulls(item);
        if (!object) return undefined;
        const merged = merge(object, changes);
        if (!merged) return undefined;
        next.push({ ...item, object: merged as Record<string, unknown> });
    }
    return next;
}

function builtIn(object: Record<string, unknown>): boolean {
    const apiVersion = String(object.apiVersion);
    return BUILT_IN_GROUPS.has(apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "");
}

/**
 * kustomize's (deprecated) `patchesStrategicMerge` of files (toboshii/home-ops' apps): each document of each file
 * patches the one object of its id (PatchStrategicMergeTransformer.go, Transform: `m.GetById(patch.OrgId())`):
 * the same group, version, kind and name, and the same namespace, an absent one being `default` (kyaml
 * resid.go, EffectiveNamespace), merged as `strategicMerge` does. Declined: an entry that is no file of the tree
 * or whose text YAML could read as a patch itself (kustomize tries each entry as inline YAML first), a file that
 * may read otherwise in go-yaml, a patch that matches no object or only by an earlier namespace (kustomize keeps
 * previous ids: not followed), a patch of a built-in kind.
 */
async function strategicMergeFiles(objects: ComposedObject[], entries: unknown, dir: string, sources: ComposeSources): Promise<ComposedObject[] | undefined> {
    if (!Array.isArray(entries) || entries.length === 0) return undefined;
    let result = objects;
    for (const entry of entries) {
        if (typeof entry !== "string" || !/^[A-Za-z0-9_./-]+$/.test(entry)) return undefined;
        const parsed = sources.parsed.get(path.resolve(dir, entry));
        if (!parsed || parsed.problems.length > 0 || parsed.documents.length === 0 || !parsed.plain) return undefined;
        for (const document of parsed.documents) {
            if (!isRecord(document) || typeof document.apiVersion !== "string" || !isRecord(document.metadata)) return undefined;
            const { apiVersion, kind } = document;
            const { name, namespace } = document.metadata;
            if (namespace !== undefined && typeof namespace !== "string") return undefined;
            const effective = (value: unknown) => (value === undefined || value === "" ? "default" : value);
            const id = (object: Record<string, unknown>) => {
                const metadata = object.metadata as Record<string, unknown>;
                return object.apiVersion === apiVersion && object.kind === kind && metadata.name === name && effective(metadata.namespace) === effective(namespace);
            };
            if (result.filter(({ object }) => id(object)).length !== 1) return undefined;
            const next = await strategicMerge(result, document, id);
            if (!next) return undefined;
            result = next;
        }
    }
    return result;
}

function selects(target: Record<string, unknown>, object: Record<string, unknown>): boolean {
    const apiVersion = String(object.apiVersion);
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
    const name = (object.metadata as Record<string, unknown>).name;
    return (
        (target.kind === undefined || target.kind === "" || target.kind === object.kind) &&
        (target.group === undefined || target.group === "" || target.group === group) &&
        (target.version === undefined || target.version === "" || target.version === version) &&
        (target.name === undefined || target.name === "" || target.name === name)
    );
}

/** No null (a deletion) and (`directives`) no `$patch`, `$retainKeys`… directive anywhere in the value. */
function mergeable(value: unknown, directives = true): boolean {
    if (value === null) return false;
    if (Array.isArray(value)) return value.every((item) => mergeable(item, directives));
    if (isRecord(value)) return Object.entries(value).every(([key, field]) => !(directives && key.startsWith("$")) && mergeable(field, directives));
    return true;
}

/**
 * A patched object as kustomize's strategic merge leaves it before the patch's fields: every map field whose value
 * is an empty null (`values:` with nothing after it, as billimek/k8s-gitops' and xunholy/k8s-gitops' HelmReleases
 * have) removed, through maps (a map left empty stays `{}`), not inside lists, which the merge keeps whole where the
 * patch does not replace them. A written null (`~`, `null`, `Null`, `NULL`) stays: kyaml merge2's VisitMap
 * (kyaml/yaml/merge2/merge2.go, kustomize v5.5.0) keeps a null Dest only where its text is not empty
 * (`MakePersistentNullNode(nodes.Dest().YNode().Value)`), and the map walker sets a field whose result is nil
 * to nothing (walk/map.go, FieldSetter), so it goes. Each null is looked up in the object's document in its file
 * (by kind and name, by its path there); undefined where that is not certain (a tag, a merge key, no such node).
 */
async function withoutEmptyNulls(item: ComposedObject): Promise<Record<string, unknown> | undefined> {
    if (mergeable(item.object, false)) return item.object;
    const text = await readFile(item.file, "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const metadata = item.object.metadata as Record<string, unknown>;
    const documents = parseAllDocuments(text).filter((document) => document.get("kind") === item.object.kind && document.getIn(["metadata", "name"]) === metadata.name);
    if (documents.length !== 1 || documents[0].errors.length > 0) return undefined;
    const [source] = documents;
    let certain = true;
    const dropped = (map: Record<string, unknown>, at: string[]): Record<string, unknown> =>
        Object.fromEntries(
            Object.entries(map).flatMap(([key, value]): [string, unknown][] => {
                if (isRecord(value)) return [[key, dropped(value, [...at, key])]];
                if (value !== null) return [[key, value]];
                const node = source.getIn([...at, key], true);
                if (!isScalar(node) || node.value !== null || node.tag !== undefined) certain = false;
                else if (node.source === "") return [];
                return [[key, value]];
            }),
        );
    const result = dropped(item.object, []);
    return certain ? result : undefined;
}

/** Maps merged key by key, everything else replaced; undefined where a map would replace a value that is not one. */
function merge(into: unknown, changes: Record<string, unknown>): Record<string, unknown> | undefined {
    const result: Record<string, unknown> = { ...(into as Record<string, unknown>) };
    for (const [key, value] of Object.entries(changes)) {
        const current = result[key];
        if (isRecord(value) && current !== undefined) {
            if (!isRecord(current)) return undefined;
            const merged = merge(current, value);
            if (!merged) return undefined;
            result[key] = merged;
        } else {
            result[key] = structuredClone(value);
        }
    }
    return result;
}

/** A label selector of equality and existence terms (Kubernetes' labels.Parse), as tests on an object; undefined: other. */
function selectorTerms(selector: unknown): ((object: Record<string, unknown>) => boolean)[] | undefined {
    if (typeof selector !== "string") return undefined;
    const terms: ((object: Record<string, unknown>) => boolean)[] = [];
    const labelsOf = (object: Record<string, unknown>): Record<string, unknown> => {
        const metadata = object.metadata as Record<string, unknown>;
        return isRecord(metadata.labels) ? metadata.labels : {};
    };
    const token = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
    for (const raw of selector.split(",")) {
        const term = raw.trim();
        const match = /^(!?)([^!=\s]+)(?:\s*(!=|==|=)\s*([^!=\s]*))?$/.exec(term);
        if (!match || !token.test(match[2]) || (match[4] !== undefined && match[4] !== "" && !token.test(match[4]))) return undefined;
        const [, not, key, operator, value] = match;
        if (not && operator) return undefined;
        if (!operator) terms.push((object) => (key in labelsOf(object)) !== (not === "!"));
        else if (operator === "!=") terms.push((object) => !(key in labelsOf(object)) || String(labelsOf(object)[key]) !== value);
        else terms.push((object) => key in labelsOf(object) && String(labelsOf(object)[key]) === value);
    }
    return terms.length > 0 ? terms : undefined;
}
