// Schema checks that passed in earlier runs, kept by everything their outcome depends on, so that a tree with one
// change checks only the objects that changed, and loads the models of their kinds only (a fleet's one-change push).
// The key of an object (CheckKeys.keyOf) is the sha256 of:
// - the caller's context: the validator's identity (its code, the schema packages' versions) and the content of the
//   user's schema files (--schema-location), which only the caller knows how to digest (src/cli/validationCache.ts);
// - --strict and the schema locations named;
// - the CRDs of the tree that define kinds of the object's API group (treeSchemas answers from them first, and an
//   unknown kind's warning names the versions and kinds of its group that it knows), in the order of the tree;
// - the object as JSON, as it is checked: after kustomize, Flux's patches and postBuild substitution, with its
//   placeholders and SOPS values (checkObject reads nothing else of it, and the file only names it in problems).
// Only passes are kept, with their warnings (an unknown kind, a ${VAR} left as written), which are given again as
// they were; an object with an error is checked every time, so that its problems are found and named where they are.
import { createHash } from "node:crypto";
import { crdModels } from "./crdSchemas.ts";
import { isRecord, type Problem } from "./problems.ts";
import { apiGroup } from "./schemas.ts";
import { jsonSafe } from "./yamlFiles.ts";

/** A warning of a check that passed, without the file (the same object may come from another file next time). */
export type KeptWarning = Omit<Problem, "file">;

export interface CheckCache {
    get(key: string): KeptWarning[] | undefined;
    set(key: string, warnings: KeptWarning[]): void;
}

/** What validateTree needs to keep checks: where, and what the outcome depends on that only the caller knows. */
export interface KeptChecks {
    cache: CheckCache;
    /** The validator's identity and the digest of the user schema files (src/cli/validationCache.ts checked()). */
    context: string;
}

export class CheckKeys {
    private readonly base: string;
    /** API group → sha256 of the tree's CRDs of that group (as JSON, in tree order). */
    private readonly crds = new Map<string, string>();
    private readonly keys = new WeakMap<object, string | null>();

    constructor(context: string, documents: unknown[], options: { strict?: boolean; schemaLocations?: string[] }) {
        this.base = JSON.stringify([context, options.strict ?? false, options.schemaLocations ?? []]);
        const byGroup = new Map<string, ReturnType<typeof createHash>>();
        for (const document of documents) {
            const groups = new Set(crdModels(document).map((model) => apiGroup(model.apiVersion)));
            if (groups.size === 0) continue;
            const json = JSON.stringify(document) ?? "";
            for (const group of groups) {
                const hash = byGroup.get(group) ?? createHash("sha256");
                byGroup.set(group, hash.update(`${json.length}\0${json}`));
            }
        }
        for (const [group, hash] of byGroup) this.crds.set(group, hash.digest("hex"));
    }

    /** The key of checking this object; undefined for one that JSON would not give back as it is (.inf, a tag). */
    keyOf(object: unknown): string | undefined {
        if (!isRecord(object)) return undefined;
        const known = this.keys.get(object);
        if (known !== undefined) return known ?? undefined;
        let key: string | null = null;
        if (jsonSafe(object)) {
            const group = typeof object.apiVersion === "string" ? apiGroup(object.apiVersion) : "";
            key = createHash("sha256")
                .update(`${this.base}\n${this.crds.get(group) ?? "-"}\n${JSON.stringify(object)}`)
                .digest("hex");
        }
        this.keys.set(object, key);
        return key ?? undefined;
    }
}
