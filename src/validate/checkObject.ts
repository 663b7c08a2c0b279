import { isDeepStrictEqual } from "node:util";
import { isRecord, objectLabel, PLACEHOLDER, SOPS_VALUE, type Problem } from "./problems.ts";
import type { CheckCache, CheckKeys } from "./checkCache.ts";
import { loadSchemas, typeLoaded, type SchemaRegistry } from "./schemas.ts";

/** The parts of an ajv error that the generated validators fill in. */
interface SchemaError {
    instancePath: string;
    keyword: string;
    params: Record<string, unknown>;
    message?: string;
}

export interface CheckOptions {
    /** An apiVersion/kind no schema knows is an error (push --strict), not a warning. */
    strict?: boolean;
}

/**
 * Schema-checks one parsed object against the schemas the registry knows (Kubernetes, Flux, operators' packages,
 * the tree's CRDs, user schemas). What is not known offline passes whatever the field's type: a postBuild
 * placeholder (PLACEHOLDER) and a SOPS-encrypted value; a SOPS-encrypted object's `sops` metadata is not a field
 * (Flux removes it when it decrypts). A kind no schema knows is a warning unless options.strict.
 */
export function checkObject(file: string, object: unknown, schemas: SchemaRegistry, options: CheckOptions = {}): Problem[] {
    const label = objectLabel(object);
    const problem = (field: string, message: string): Problem => ({ file, object: label, field, message });
    if (!isRecord(object)) return [problem("", "is not a Kubernetes object (expected a mapping with apiVersion and kind)")];

    const { apiVersion, kind } = object;
    if (typeof apiVersion !== "string" || apiVersion === "") return [problem("apiVersion", "is required")];
    if (typeof kind !== "string" || kind === "") return [problem("kind", "is required")];

    const Model = schemas.find(apiVersion, kind);
    if (!Model) {
        const unknown = unknownTypeProblem(apiVersion, kind, schemas, problem);
        return [options.strict ? unknown : { ...unknown, severity: "warning" }];
    }

    const checked = isSopsEncrypted(object) ? withoutSopsMetadata(object) : object;
    try {
        new Model(checked).validate();
        return sizeProblems(object, kind).map(({ field, message }) => problem(field, message));
    } catch (error) {
        const errors = (error as { errors?: SchemaError[] }).errors;
        if (!Array.isArray(errors)) throw error;
        const remaining = errors.filter((schemaError) => !acceptedOffline(schemaError, checked));
        // A value still holding `${VAR}` fails only as written: something in the cluster (a parent's postBuild, a
        // mutating webhook) may substitute it. It is a warning, not a refusal.
        const unsubstituted = remaining.filter((schemaError) => holdsVariable(valueAt(checked, schemaError.instancePath)));
        const real = remaining.filter((schemaError) => !unsubstituted.includes(schemaError));
        const warnings = schemaProblems(unsubstituted, checked).map(({ field, message }) => ({
            ...problem(field, `${message}; it holds a \${VAR} that no postBuild.substitute of the Flux Kustomization applying it sets, so Flux applies it as written`),
            severity: "warning" as const,
        }));
        if (real.length === 0) return [...sizeProblems(object, kind).map(({ field, message }) => problem(field, message)), ...warnings];
        return [...schemaProblems(real, checked).map(({ field, message }) => problem(field, message)), ...warnings];
    }
}

/** A SOPS-encrypted object: its `sops` metadata (with the MAC) is there. */
export function isSopsEncrypted(object: Record<string, unknown>): boolean {
    return isRecord(object.sops) && ("mac" in object.sops || "lastmodified" in object.sops);
}

function withoutSopsMetadata(object: Record<string, unknown>): Record<string, unknown> {
    const { sops: _sops, ...rest } = object;
    return rest;
}

/**
 * An error that is no error of what the cluster gets: the value is not known offline (a placeholder, an encrypted
 * value, or an object or list holding one: a field built from a variable), or it is a `byte` field whose base64
 * is wrapped over several lines, as kustomize's secretGenerator writes it (the API server decodes base64 with Go's
 * encoding/base64, which skips \r and \n).
 */
function acceptedOffline(error: SchemaError, object: unknown): boolean {
    const value = valueAt(object, error.instancePath);
    if (holdsUnknown(value)) return true;
    if (error.keyword === "format" && error.params.format === "byte" && typeof value === "string") {
        return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value.replace(/[\r\n]/g, ""));
    }
    return false;
}

function holdsVariable(value: unknown): boolean {
    if (typeof value === "string") return /\$\{[^}]+\}/.test(value);
    if (Array.isArray(value)) return value.some(holdsVariable);
    if (isRecord(value)) return Object.values(value).some(holdsVariable);
    return false;
}

function holdsUnknown(value: unknown): boolean {
    if (typeof value === "string") return value.includes(PLACEHOLDER) || SOPS_VALUE.test(value);
    if (Array.isArray(value)) return value.some(holdsUnknown);
    if (isRecord(value)) return Object.values(value).some(holdsUnknown);
    return false;
}

/**
 * What the API server refuses whatever the schema says: etcd takes a request of at most 1.5 MiB by default
 * (`--max-request-bytes`), and the API server's validation caps a ConfigMap's data plus binaryData, and a Secret's
 * decoded data, at 1 MiB (k8s.io/kubernetes pkg/apis/core/validation: MaxSecretSize, used for both).
 */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
export const MAX_DATA_BYTES = 1024 * 1024;

function sizeProblems(object: Record<string, unknown>, kind: string): { field: string; message: string }[] {
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
    const size = Buffer.byteLength(JSON.stringify(object));
    if (size > MAX_OBJECT_BYTES) {
        return [{ field: "", message: `is ${mib(size)} as JSON; the API server (etcd) takes at most ${mib(MAX_OBJECT_BYTES)} per object` }];
    }
    const values = (field: string, decode: (value: string) => number) =>
        isRecord(object[field]) ? Object.values(object[field]).reduce<number>((sum, value) => sum + (typeof value === "string" ? decode(value) : 0), 0) : 0;
    const utf8 = (value: string) => Buffer.byteLength(value);
    const base64 = (value: string) => Buffer.from(value, "base64").length;
    const data =
        kind === "ConfigMap" ? values("data", utf8) + values("binaryData", base64) : kind === "Secret" ? values("data", base64) + values("stringData", utf8) : 0;
    if (data > MAX_DATA_BYTES) {
        const fields = kind === "ConfigMap" ? "data and binaryData" : "data and stringData";
        return [{ field: "data", message: `holds ${mib(data)} (${fields}); the API server takes at most ${mib(MAX_DATA_BYTES)} in a ${kind}` }];
    }
    return [];
}

/**
 * checkObject that remembers the objects that passed, so that an object equal to one of them (deep,
 * strict equality) is not checked again: kustomize build output repeats the source files it did not
 * change. That is safe because checkObject depends on nothing but the object (the file only names it
 * in problems, and a model, once loaded, stays the one for its apiVersion and kind); an object that
 * has problems is checked every time, so each of its problems names its own file.
 *
 * With `kept` (src/validate/checkCache.ts), checks that passed in earlier runs answer too, warnings included, and
 * `load` loads the models of only the objects they do not answer for.
 */
export class ObjectChecker {
    /** The objects that passed without a warning, by apiVersion and Kind/name, to compare each object with few others. */
    private readonly passed = new Map<string, unknown[]>();

    private readonly schemas: SchemaRegistry;
    private readonly options: CheckOptions;
    private readonly kept: { cache: CheckCache; keys: CheckKeys } | undefined;

    constructor(schemas: SchemaRegistry, options: CheckOptions = {}, kept?: { cache: CheckCache; keys: CheckKeys }) {
        this.schemas = schemas;
        this.options = options;
        this.kept = kept;
    }

    /** Loads the models that checking these objects needs: none for an object whose check is known already. */
    async load(objects: unknown[]): Promise<void> {
        await loadSchemas(objects.filter((object) => !this.known(object)));
    }

    private known(object: unknown): boolean {
        if (this.passed.get(this.keyOf(object))?.some((seen) => isDeepStrictEqual(seen, object))) return true;
        const key = this.kept?.keys.keyOf(object);
        return key !== undefined && this.kept!.cache.get(key) !== undefined;
    }

    private pass(key: string, object: unknown): void {
        const same = this.passed.get(key);
        if (same) same.push(object);
        else this.passed.set(key, [object]);
    }

    private keyOf(object: unknown): string {
        return `${isRecord(object) ? String(object.apiVersion) : ""} ${objectLabel(object)}`;
    }

    check(file: string, object: unknown): Problem[] {
        const key = this.keyOf(object);
        const same = this.passed.get(key);
        if (same?.some((seen) => isDeepStrictEqual(seen, object))) return [];
        const keptKey = this.kept?.keys.keyOf(object);
        const kept = keptKey === undefined ? undefined : this.kept!.cache.get(keptKey);
        if (kept) {
            if (kept.length === 0) this.pass(key, object);
            return kept.map((warning) => ({ file, ...warning }));
        }
        const problems = checkObject(file, object, this.schemas, this.options);
        if (problems.length === 0) this.pass(key, object);
        // A pass is kept with its warnings; a check that did not find its model loaded (load was not asked) is not.
        if (keptKey !== undefined && problems.every((problem) => problem.severity === "warning") && typeLoaded(object)) {
            this.kept!.cache.set(keptKey, problems.map(({ file: _file, ...warning }) => warning));
        }
        return problems;
    }
}

function unknownTypeProblem(
    apiVersion: string,
    kind: string,
    schemas: SchemaRegistry,
    problem: (field: string, message: string) => Problem,
): Problem {
    const siblings = schemas.versionsOfGroup(apiVersion).filter((known) => schemas.find(known, kind));
    const add = `add its CRD to the tree or a JSON schema with --schema-location <dir>`;
    if (siblings.length > 0) {
        return problem("apiVersion", `no schema for ${kind} in ${apiVersion}; the versions known are ${siblings.join(", ")} (${add})`);
    }
    const kinds = schemas.kindsOf(apiVersion);
    if (kinds.length > 0) return problem("kind", `no schema for kind "${kind}" in ${apiVersion} (${add})`);
    return problem("apiVersion", `no schema for ${kind} (${apiVersion}): not in the Kubernetes, Flux or bundled operator schemas, nor a CRD of the tree (${add})`);
}

/**
 * One problem per field. ajv reports each failed branch of a oneOf/anyOf (int-or-string fields give
 * "must be string", "must be integer" and "must match exactly one schema"): those become one message.
 */
function schemaProblems(errors: SchemaError[], object: Record<string, unknown>): { field: string; message: string }[] {
    const byField = new Map<string, { error: SchemaError; message: string }[]>();
    for (const error of errors) {
        const { field, message } = describe(error);
        byField.set(field, [...(byField.get(field) ?? []), { error, message }]);
    }
    return [...byField].map(([field, described]) => {
        const types = described.filter(({ error }) => error.keyword === "type").map(({ error }) => String(error.params.type));
        const specific = described.find(({ error }) => !["oneOf", "anyOf"].includes(error.keyword)) ?? described[0];
        const message = types.length > 1 ? `must be ${types.join(" or ")}` : specific.message;
        // For a wrong value, show it: "must be string (got 30)".
        const wrongValue = ["type", "enum"].includes(specific.error.keyword);
        return { field, message: wrongValue ? `${message} (got ${show(valueAt(object, specific.error.instancePath))})` : message };
    });
}

function valueAt(object: unknown, pointer: string): unknown {
    return pointerSegments(pointer).reduce<unknown>(
        (value, segment) => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[segment] : undefined),
        object,
    );
}

function show(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function describe(error: SchemaError): { field: string; message: string } {
    const path = pointerToPath(error.instancePath);
    const { params } = error;
    switch (error.keyword) {
        case "required":
            return { field: joinPath(path, String(params.missingProperty)), message: "is required" };
        case "additionalProperties":
            return { field: joinPath(path, String(params.additionalProperty)), message: "is not a known field" };
        case "enum":
            return { field: path, message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(", ")}` };
        default:
            return { field: path, message: error.message ?? `fails the ${error.keyword} rule` };
    }
}

/** `/spec/containers/0/image` → `spec.containers[0].image` (JSON pointer, RFC 6901). */
function pointerToPath(pointer: string): string {
    return pointerSegments(pointer).reduce(joinPath, "");
}

function pointerSegments(pointer: string): string[] {
    return pointer
        .split("/")
        .slice(1)
        .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function joinPath(path: string, segment: string): string {
    if (/^\d+$/.test(segment)) return `${path}[${segment}]`;
    if (/^[A-Za-z_$][\w$-]*$/.test(segment)) return path === "" ? segment : `${path}.${segment}`;
    return `${path}[${JSON.stringify(segment)}]`;
}
