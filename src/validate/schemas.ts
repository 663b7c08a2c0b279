// The offline schemas: every model class that kubernetes-models and @kubernetes-models/flux-cd export,
// keyed by apiVersion and kind. Both packages are ESM-only, so they are loaded with dynamic import().

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

let registry: Promise<SchemaRegistry> | undefined;

/** Loads the model packages once per process (about a second), then answers from memory. */
export function loadSchemas(): Promise<SchemaRegistry> {
    registry ??= buildRegistry();
    return registry;
}

async function buildRegistry(): Promise<SchemaRegistry> {
    const [kubernetes, flux] = await Promise.all([import("kubernetes-models"), import("@kubernetes-models/flux-cd")]);
    const byApiVersion = new Map<string, Map<string, SchemaModel>>();
    for (const model of findModels([kubernetes, flux])) {
        const kinds = byApiVersion.get(model.apiVersion) ?? new Map<string, SchemaModel>();
        kinds.set(model.kind, model);
        byApiVersion.set(model.apiVersion, kinds);
    }
    return {
        find: (apiVersion, kind) => byApiVersion.get(apiVersion)?.get(kind),
        kindsOf: (apiVersion) => [...(byApiVersion.get(apiVersion)?.keys() ?? [])].sort(),
        versionsOfGroup: (apiVersion) =>
            [...byApiVersion.keys()].filter((known) => apiGroup(known) === apiGroup(apiVersion)).sort(),
    };
}

/** `apps` for `apps/v1`, `` (the core group) for `v1`. */
export function apiGroup(apiVersion: string): string {
    const slash = apiVersion.lastIndexOf("/");
    return slash === -1 ? "" : apiVersion.slice(0, slash);
}

/** The package indexes nest namespaces (`apps.v1.Deployment`); model classes carry static apiVersion and kind. */
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
