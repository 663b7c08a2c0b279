// Schemas that do not come from a model package: the CRDs found in the tree (what the cluster will have), Flux's
// and Flux Operator's kinds that @kubernetes-models/flux-cd does not model (src/validate/crds, written by
// scripts/vendorCrdSchemas.ts from the projects' releases), and user schemas in kubeconform's layout
// (--schema-location). Each becomes a SchemaModel whose validate() throws ajv errors, as the packages' models do.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { formats } from "@kubernetes-models/validate";
import type { run as celRun } from "@bufbuild/cel";
import type { Ajv, ValidateFunction } from "ajv";
import { isRecord, PLACEHOLDER, SOPS_VALUE } from "./problems.ts";
import type { SchemaModel } from "./schemas.ts";

/**
 * @bufbuild/cel, loaded the first time a value meets a rule: it is most of the validator's loading time (about
 * 50 ms), which a tree without CEL rules never needs. validate() is synchronous, so its CommonJS build (the same
 * release, built from the same source) is loaded with require.
 */
let celRunner: typeof celRun | undefined;
const cel = (): typeof celRun => (celRunner ??= (createRequire(import.meta.url)("@bufbuild/cel") as { run: typeof celRun }).run);

/**
 * ajv's compiler, made the first time a schema of this file is compiled: the model packages' validators are compiled
 * already, so a tree whose objects none of these schemas check never loads it (about 50 modules).
 */
let compiler: Ajv | undefined;
function ajv(): Ajv {
    if (!compiler) {
        const { Ajv: AjvClass } = createRequire(import.meta.url)("ajv") as typeof import("ajv");
        compiler = new AjvClass({ strict: false, allErrors: true, logger: false, validateFormats: true });
        for (const [name, format] of Object.entries(formats)) compiler.addFormat(name, format as never);
    }
    return compiler;
}

/**
 * An OpenAPI v3 schema of a CRD as ajv reads it: `x-kubernetes-int-or-string` is integer or string, `nullable`
 * admits null. Unknown fields stay allowed: the API server prunes them from a custom resource, it does not refuse it.
 */
export function toJsonSchema(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map(toJsonSchema);
    if (!isRecord(schema)) return schema;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(schema)) {
        if (key === "description" || key === "x-kubernetes-validations") continue;
        out[key] = key === "properties" || key === "patternProperties" || key === "definitions" || key === "$defs"
            ? Object.fromEntries(Object.entries(isRecord(value) ? value : {}).map(([name, inner]) => [name, toJsonSchema(inner)]))
            : toJsonSchema(value);
    }
    if (schema["x-kubernetes-int-or-string"] === true) {
        delete out.type;
        delete out.format;
        out.anyOf = [{ type: "integer" }, { type: "string" }];
    }
    if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
    return out;
}

/** A model class around a compiled schema (compiled on first use: most CRDs of a tree have no object in it). */
export function schemaModel(apiVersion: string, kind: string, schema: unknown): SchemaModel {
    let compiled: ValidateFunction | undefined;
    const Model = class {
        static apiVersion = apiVersion;
        static kind = kind;
        private readonly data: Record<string, unknown>;
        constructor(data: Record<string, unknown>) {
            this.data = data;
        }
        validate(): void {
            compiled ??= ajv().compile(toJsonSchema(schema) as object);
            if (!compiled(this.data)) throw Object.assign(new Error(`${kind} does not match its schema`), { errors: compiled.errors });
            const broken = celErrors(schema, this.data, "");
            if (broken.length > 0) throw Object.assign(new Error(`${kind} breaks a validation rule of its CRD`), { errors: broken });
        }
    };
    return Model;
}

/** The models a CustomResourceDefinition object defines (one per version with a schema), or none if it is not one. */
export function crdModels(object: unknown): SchemaModel[] {
    if (!isRecord(object) || object.kind !== "CustomResourceDefinition" || !String(object.apiVersion).startsWith("apiextensions.k8s.io/")) return [];
    const spec = isRecord(object.spec) ? object.spec : {};
    const names = isRecord(spec.names) ? spec.names : {};
    if (typeof spec.group !== "string" || typeof names.kind !== "string" || !Array.isArray(spec.versions)) return [];
    return spec.versions.flatMap((version: unknown) => {
        if (!isRecord(version) || typeof version.name !== "string") return [];
        const schema = isRecord(version.schema) ? version.schema.openAPIV3Schema : undefined;
        // A version without a schema (apiextensions v1 requires one) checks nothing but is known.
        return [schemaModel(`${spec.group}/${version.name}`, names.kind as string, schema ?? {})];
    });
}

/** Flux's (ExternalArtifact, ArtifactGenerator) and Flux Operator's kinds, from src/validate/crds. */
export function vendoredModels(): SchemaModel[] {
    const dir = path.join(import.meta.dirname, "crds");
    return readdirSync(dir)
        .filter((name) => name.endsWith(".json"))
        .flatMap((name) => {
            const crd = JSON.parse(readFileSync(path.join(dir, name), "utf8")) as { group: string; kind: string; versions: { name: string; schema: unknown }[] };
            return crd.versions.map((version) => schemaModel(`${crd.group}/${version.name}`, crd.kind, version.schema));
        });
}

/**
 * A JSON schema for apiVersion/kind from user schema locations, in kubeconform's layouts: a location with `{{ … }}`
 * is a template (.Group, .ResourceKind, .ResourceAPIVersion, .KindSuffix, .NormalizedKubernetesVersion,
 * .StrictSuffix); a directory is searched as `<dir>/<kind><suffix>.json` (kubeconform's file names) and
 * `<dir>/<group>/<kind>_<version>.json` (the CRDs-catalog layout). Only local files are read: a URL template is skipped.
 */
export function userSchemaModel(locations: string[], apiVersion: string, kind: string): SchemaModel | undefined {
    const slash = apiVersion.lastIndexOf("/");
    const group = slash === -1 ? "" : apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    const resourceKind = kind.toLowerCase();
    const kindSuffix = group === "" ? `-${version}` : `-${group.split(".")[0]}-${version}`;
    for (const location of locations) {
        if (/^https?:\/\//.test(location)) continue;
        const candidates = location.includes("{{")
            ? [
                  location
                      .replace(/\{\{\s*\.Group\s*\}\}/g, group)
                      .replace(/\{\{\s*\.ResourceKind\s*\}\}/g, resourceKind)
                      .replace(/\{\{\s*\.ResourceAPIVersion\s*\}\}/g, version)
                      .replace(/\{\{\s*\.KindSuffix\s*\}\}/g, kindSuffix)
                      .replace(/\{\{\s*\.NormalizedKubernetesVersion\s*\}\}/g, "master")
                      .replace(/\{\{\s*\.StrictSuffix\s*\}\}/g, ""),
              ]
            : [path.join(location, `${resourceKind}${kindSuffix}.json`), path.join(location, group, `${resourceKind}_${version}.json`)];
        const found = candidates.find((candidate) => existsSync(candidate));
        if (found) return schemaModel(apiVersion, kind, JSON.parse(readFileSync(found, "utf8")));
    }
    return undefined;
}

interface CelRule {
    rule: string;
    message?: string;
}

/**
 * The CRD's CEL rules (x-kubernetes-validations) the value breaks, as ajv-style errors, evaluated with @bufbuild/cel
 * (tested against cel-spec's conformance suite) with `self` bound to each value the rule's schema node applies to.
 * Left out, since they cannot be decided offline: transition rules (oldSelf), rules that use a function of
 * Kubernetes' CEL libraries that @bufbuild/cel does not have (isURL, quantity…: the evaluation errs), and values
 * that hold a postBuild placeholder, a SOPS-encrypted value or an unsubstituted ${VAR}.
 */
export function celErrors(schema: unknown, value: unknown, instancePath: string): { instancePath: string; keyword: string; params: Record<string, unknown>; message: string }[] {
    if (!isRecord(schema) || value === undefined || value === null) return [];
    const errors: ReturnType<typeof celErrors> = [];
    const rules = Array.isArray(schema["x-kubernetes-validations"]) ? (schema["x-kubernetes-validations"] as CelRule[]) : [];
    if (rules.length > 0 && !unknownInside(value)) {
        const run = cel();
        for (const { rule, message } of rules) {
            if (typeof rule !== "string" || /\boldSelf\b/.test(rule)) continue;
            let result: unknown;
            try {
                result = run(rule, { self: value } as never);
            } catch {
                continue;
            }
            if (result === false) errors.push({ instancePath, keyword: "x-kubernetes-validations", params: { rule }, message: message ?? `fails the rule ${rule}` });
        }
    }
    if (isRecord(value) && isRecord(schema.properties)) {
        for (const [name, inner] of Object.entries(schema.properties)) errors.push(...celErrors(inner, value[name], `${instancePath}/${escape(name)}`));
    }
    if (isRecord(value) && isRecord(schema.additionalProperties)) {
        const known = isRecord(schema.properties) ? schema.properties : {};
        for (const [name, inner] of Object.entries(value)) if (!(name in known)) errors.push(...celErrors(schema.additionalProperties, inner, `${instancePath}/${escape(name)}`));
    }
    if (Array.isArray(value) && isRecord(schema.items)) value.forEach((item, i) => errors.push(...celErrors(schema.items, item, `${instancePath}/${i}`)));
    return errors;
}

function escape(segment: string): string {
    return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unknownInside(value: unknown): boolean {
    if (typeof value === "string") return value.includes(PLACEHOLDER) || SOPS_VALUE.test(value) || /\$\{[^}]+\}/.test(value);
    if (Array.isArray(value)) return value.some(unknownInside);
    if (isRecord(value)) return Object.values(value).some(unknownInside);
    return false;
}
