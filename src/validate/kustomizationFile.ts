import path from "node:path";
import { isRecord } from "./problems.ts";

/** The names kustomize looks for in a directory, in its order. */
export const KUSTOMIZATION_FILE_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

export function isKustomizationFile(file: string): boolean {
    return KUSTOMIZATION_FILE_NAMES.includes(path.basename(file));
}

/**
 * How kustomize uses a referenced path: `resource` files and directories are applied as they are;
 * `patch` and `data` files (patches, generator inputs, replacements) are partial objects or plain data,
 * so they are not checked as standalone Kubernetes objects.
 */
export type ReferenceRole = "resource" | "patch" | "data";

export interface LocalReference {
    /** Where in the kustomization, e.g. `resources[1]` or `patches[0].path`. */
    field: string;
    /** As written in the kustomization. */
    value: string;
    /** Absolute (resolved against the kustomization's directory). */
    target: string;
    role: ReferenceRole;
}

const LIST_FIELDS: Record<string, ReferenceRole> = {
    resources: "resource",
    components: "resource",
    bases: "resource",
    crds: "resource",
    patchesStrategicMerge: "patch",
    configurations: "data",
    generators: "data",
    transformers: "data",
    validators: "data",
};
const PATH_ENTRY_FIELDS: Record<string, ReferenceRole> = { patches: "patch", patchesJson6902: "patch", replacements: "data" };
const GENERATOR_FIELDS = ["configMapGenerator", "secretGenerator"];

/** The local paths a kustomization refers to; remote bases (URLs, git refs) and inline patches are left out. */
export function localReferences(kustomization: Record<string, unknown>, dir: string): LocalReference[] {
    const found: LocalReference[] = [];
    const add = (field: string, value: unknown, role: ReferenceRole) => {
        if (typeof value !== "string" || value === "" || isRemote(value) || value.includes("\n")) return;
        found.push({ field, value, target: path.resolve(dir, value), role });
    };
    for (const [name, role] of Object.entries(LIST_FIELDS)) {
        asList(kustomization[name]).forEach((value, i) => add(`${name}[${i}]`, value, role));
    }
    for (const [name, role] of Object.entries(PATH_ENTRY_FIELDS)) {
        asList(kustomization[name]).forEach((entry, i) => isRecord(entry) && add(`${name}[${i}].path`, entry.path, role));
    }
    for (const name of GENERATOR_FIELDS) {
        asList(kustomization[name]).forEach((generator, i) => {
            if (!isRecord(generator)) return;
            // `files` entries may be "key=path".
            asList(generator.files).forEach((file, j) =>
                add(`${name}[${i}].files[${j}]`, typeof file === "string" ? file.slice(file.indexOf("=") + 1) : file, "data"),
            );
            asList(generator.envs).forEach((env, j) => add(`${name}[${i}].envs[${j}]`, env, "data"));
            add(`${name}[${i}].env`, generator.env, "data");
        });
    }
    return found;
}

function asList(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** A URL or a git repository (kustomize's remote bases), as opposed to a path of the tree. */
export function isRemote(reference: string): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) || /^(git@|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/i.test(reference);
}
