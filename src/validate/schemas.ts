// The offline schemas: the model classes that kubernetes-models and @kubernetes-models/flux-cd export,
// keyed by apiVersion and kind. Both packages are ESM-only, so they are loaded with dynamic import(), one kind at
// a time (`kubernetes-models/apps/v1/Deployment`): loading all of both costs about two seconds, the core group
// alone most of a second, one kind a few milliseconds. A whole API group (`kubernetes-models/apps`) is loaded only
// for an apiVersion or kind that is not found that way, so that the message can name the ones there are.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { crdModels, userSchemaModel, vendoredModels } from "./crdSchemas.ts";
import { MODEL_PACKAGES } from "./modelPackages.ts";

/** A generated model class: construct it with an object, and validate() throws with ajv `errors`. */
export interface SchemaModel {
    new (data: Record<string, unknown>): { validate(): void };
    apiVersion: string;
    kind: string;
}

export interface SchemaRegistry {
    /** The model for this apiVersion and kind, if the packages ship one. */
    find(apiVersion: string, kind: string): SchemaModel | undefined;
    /** Kinds the packages know for an apiVersion (empty when the apiVersion is unknown). */
    kindsOf(apiVersion: string): string[];
    /** Known apiVersions of the same API group, e.g. `helm.toolkit.fluxcd.io/v2` for `helm.toolkit.fluxcd.io/v3`. */
    versionsOfGroup(apiVersion: string): string[];
}

export { MODEL_PACKAGES };

/** apiVersion → kind → model, for every group loaded so far in this process. */
const models = new Map<string, Map<string, SchemaModel>>();
const loadedGroups = new Map<string, Promise<void>>();

const registry: SchemaRegistry = {
    find: (apiVersion, kind) => models.get(apiVersion)?.get(kind),
    kindsOf: (apiVersion) => [...(models.get(apiVersion)?.keys() ?? [])].sort(),
    versionsOfGroup: (apiVersion) => [...models.keys()].filter((known) => apiGroup(known) === apiGroup(apiVersion)).sort(),
};

let vendored = false;
const require = createRequire(import.meta.url);

/** Loads the models of these objects' apiVersion and kind (once per process) and returns the registry, which answers for them. */
export async function loadSchemas(objects: unknown[]): Promise<SchemaRegistry> {
    if (!vendored) {
        vendoredModels().forEach(register);
        vendored = true;
    }
    const types = new Map(typesOf(objects).map((type) => [`${type.apiVersion}\0${type.kind}`, type]));
    await Promise.all(
        [...types].map(async ([name, { apiVersion, kind }]) => {
            if (!registry.find(apiVersion, kind) && !(await loadKind(apiVersion, kind))) {
                const group = groupModulePath(apiVersion);
                await (loadedGroups.get(group) ?? loadGroup(group));
            }
            requested.add(name);
        }),
    );
    return registry;
}

/** The apiVersion and kind pairs loadSchemas loaded (or found no model for), in this process. */
const requested = new Set<string>();

/** Whether loadSchemas was asked for this object's apiVersion and kind: the registry answers for it as it will. */
export function typeLoaded(object: unknown): boolean {
    const [type] = typesOf([object]);
    return type !== undefined && requested.has(`${type.apiVersion}\0${type.kind}`);
}

/** Loads one kind's model from whichever package exports it; false when none does. */
async function loadKind(apiVersion: string, kind: string): Promise<boolean> {
    if (!/^[a-z0-9.-]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind)) return false;
    const modules = await Promise.all(MODEL_PACKAGES.map((name) => importIfExported(`${name}/${apiVersion}/${kind}`)));
    const model = findModels(modules).find((found) => found.apiVersion === apiVersion && found.kind === kind);
    if (model) register(model);
    return model !== undefined;
}

function register(model: SchemaModel): void {
    const kinds = models.get(model.apiVersion) ?? new Map<string, SchemaModel>();
    kinds.set(model.kind, model);
    models.set(model.apiVersion, kinds);
}

function loadGroup(group: string): Promise<void> {
    const loading = (async () => {
        // Anything that is not a plain group name cannot be one the packages export.
        if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(group)) return;
        const modules = await Promise.all(MODEL_PACKAGES.map((name) => importIfExported(`${name}/${group}`)));
        for (const model of findModels(modules)) register(model);
    })();
    loadedGroups.set(group, loading);
    return loading;
}

/**
 * The subpaths each model package exports (its package.json `exports`, read once): an import of a subpath that is not
 * among them fails (ERR_PACKAGE_PATH_NOT_EXPORTED), and failing costs Node a resolution and an exception per package
 * and kind, so it is not tried. A key with a `*` is a pattern, as Node matches it.
 */
let exported: Map<string, { exact: Set<string>; patterns: [string, string][] } | undefined> | undefined;

function mayExport(specifier: string): boolean {
    exported ??= new Map(
        MODEL_PACKAGES.map((name) => {
            try {
                const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")) as { exports?: unknown };
                if (typeof manifest.exports !== "object" || manifest.exports === null || Array.isArray(manifest.exports)) return [name, undefined];
                const keys = Object.keys(manifest.exports);
                if (!keys.every((key) => key.startsWith("."))) return [name, undefined];
                const patterns = keys.filter((key) => key.includes("*")).map((key): [string, string] => [key.slice(0, key.indexOf("*")), key.slice(key.indexOf("*") + 1)]);
                return [name, { exact: new Set(keys), patterns }];
            } catch {
                return [name, undefined]; // not readable as expected: the import decides
            }
        }),
    );
    const name = MODEL_PACKAGES.find((candidate) => specifier.startsWith(`${candidate}/`));
    const exports = name === undefined ? undefined : exported.get(name);
    if (!exports) return true;
    const subpath = `.${specifier.slice(name!.length)}`;
    return exports.exact.has(subpath) || exports.patterns.some(([prefix, suffix]) => subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= prefix.length + suffix.length);
}

async function importIfExported(specifier: string): Promise<unknown> {
    if (!mayExport(specifier)) return undefined;
    try {
        return await import(specifier);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || code === "ERR_MODULE_NOT_FOUND") return undefined;
        throw error;
    }
}

/** The apiVersion and kind of each of these values that has both as strings. */
function typesOf(objects: unknown[]): { apiVersion: string; kind: string }[] {
    return objects.flatMap((object) => {
        const { apiVersion, kind } = typeof object === "object" && object !== null ? (object as { apiVersion?: unknown; kind?: unknown }) : {};
        return typeof apiVersion === "string" && typeof kind === "string" ? [{ apiVersion, kind }] : [];
    });
}

/** `apps` for `apps/v1`, `` (the core group) for `v1`. */
export function apiGroup(apiVersion: string): string {
    const slash = apiVersion.lastIndexOf("/");
    return slash === -1 ? "" : apiVersion.slice(0, slash);
}

/** The packages export each group as a folder; the core group has none, only its version (`kubernetes-models/v1`). */
function groupModulePath(apiVersion: string): string {
    return apiGroup(apiVersion) || apiVersion;
}

/** Group indexes nest namespaces per version (`v1.Deployment`); model classes carry static apiVersion and kind. */
function findModels(namespaces: unknown[]): SchemaModel[] {
    const found = new Set<SchemaModel>();
    const visit = (value: unknown): void => {
        if (isModel(value)) found.add(value);
        else if (typeof value === "object" && value !== null) Object.values(value).forEach(visit);
    };
    namespaces.forEach(visit);
    return [...found];
}

function isModel(value: unknown): value is SchemaModel {
    if (typeof value !== "function") return false;
    const statics = value as unknown as Record<string, unknown>;
    return typeof statics.apiVersion === "string" && typeof statics.kind === "string";
}

export interface TreeSchemaOptions {
    /** kubeconform-style schema locations (directories or `{{ … }}` templates of local files). */
    schemaLocations?: string[];
}

/**
 * The registry for one tree: the CRDs it holds first (the cluster will serve their schemas), then the packages'
 * models, then user schemas (--schema-location). `objects` are all the tree's documents.
 */
export function treeSchemas(base: SchemaRegistry, objects: unknown[], options: TreeSchemaOptions = {}): SchemaRegistry {
    const own = new Map<string, Map<string, SchemaModel>>();
    const add = (model: SchemaModel) => {
        const kinds = own.get(model.apiVersion) ?? new Map<string, SchemaModel>();
        kinds.set(model.kind, model);
        own.set(model.apiVersion, kinds);
    };
    objects.flatMap(crdModels).forEach(add);
    const locations = options.schemaLocations ?? [];
    const user = new Map<string, SchemaModel | undefined>();
    const fromUser = (apiVersion: string, kind: string) => {
        const key = `${apiVersion}\0${kind}`;
        if (!user.has(key)) {
            const model = locations.length > 0 ? userSchemaModel(locations, apiVersion, kind) : undefined;
            user.set(key, model);
            if (model) add(model);
        }
        return user.get(key);
    };
    return {
        find: (apiVersion, kind) => own.get(apiVersion)?.get(kind) ?? base.find(apiVersion, kind) ?? fromUser(apiVersion, kind),
        kindsOf: (apiVersion) => [...new Set([...(own.get(apiVersion)?.keys() ?? []), ...base.kindsOf(apiVersion)])].sort(),
        versionsOfGroup: (apiVersion) =>
            [...new Set([...[...own.keys()].filter((known) => apiGroup(known) === apiGroup(apiVersion)), ...base.versionsOfGroup(apiVersion)])].sort(),
    };
}
