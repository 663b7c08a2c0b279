import path from "node:path";
import { PREFIX_VARIABLE } from "../bucket/keys.ts";
import { isRecord } from "./problems.ts";
import { pathKind } from "./paths.ts";

/** spec.path of a Flux Kustomization that reads a Bucket: relative to the bucket root. */
export function bucketKustomizationPath(object: Record<string, unknown>): string | undefined {
    if (typeof object.apiVersion !== "string" || !object.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/")) return undefined;
    if (object.kind !== "Kustomization" || !isRecord(object.spec)) return undefined;
    const { sourceRef, path: fluxPath } = object.spec;
    if (!isRecord(sourceRef) || sourceRef.kind !== "Bucket") return undefined;
    return typeof fluxPath === "string" ? fluxPath : "./";
}

/**
 * What is wrong with a Bucket Kustomization's spec.path for a tree at `root` that is pushed under
 * `prefix` (normalized; "" for the bucket root), or undefined when it names a directory of the tree.
 *
 * The artifact Flux builds from a Bucket keeps each object's full key, prefix included, and
 * spec.path is resolved from the artifact's root ("/apps" means "./apps"). So under `prod/` the
 * tree's `apps/prod` is `./prod/apps/prod`.
 */
export async function fluxPathProblem(fluxPath: string, root: string, prefix: string): Promise<string | undefined> {
    const folder = bucketFolder(fluxPath);
    if (climbsOut(folder)) return `"${fluxPath}" is not a directory of the tree`;
    const inTree = treeFolder(fluxPath, prefix);
    if (inTree === undefined) {
        if (fluxPath.includes(`\${${PREFIX_VARIABLE}}`)) {
            return `"${fluxPath}" needs \${${PREFIX_VARIABLE}} substituted, which the root Kustomization does only with the flux stack's substitutePrefix (push and promote: --substitute-prefix, or the flux stack's outputs)`;
        }
        const forgotPrefix = (await pathKind(path.join(root, folder))) === "directory";
        // A path that names another prefix's folder (a tree written for another environment, or promoted from one).
        const parts = folder.split("/");
        let elsewhere: string | undefined;
        for (let i = 1; i < parts.length && !forgotPrefix && elsewhere === undefined; i++) {
            if ((await pathKind(path.join(root, ...parts.slice(i)))) === "directory") elsewhere = parts.slice(i).join("/");
        }
        const allowed = forgotPrefix
            ? `write ./${prefix}${folder}`
            : elsewhere !== undefined
              ? `write ./${prefix}${elsewhere}, or ./\${${PREFIX_VARIABLE}}${elsewhere} to use the same tree under every prefix (the flux stack's substitutePrefix)`
              : `it must start with ./${prefix}`;
        return `"${fluxPath}" is outside the prefix ${prefix} this tree is pushed under; Flux keeps the prefix in artifact paths, so ${allowed}`;
    }
    if ((await pathKind(path.join(root, inTree))) === "directory") return undefined;
    const stripped = prefix === "" ? "" : ` (${inTree} once the prefix ${prefix} is stripped)`;
    return `"${fluxPath}" is not a directory of the tree${stripped}`;
}

/** A Flux path with ${BUCKETOPS_PREFIX} as the root Kustomization substitutes it (`substitute` unset: as written). */
export function withPrefixVariable(fluxPath: string, substitute: Record<string, string> | undefined): string {
    const value = substitute?.[PREFIX_VARIABLE];
    return value === undefined ? fluxPath : fluxPath.replaceAll(`\${${PREFIX_VARIABLE}}`, value);
}

/**
 * The folder of the tree (relative to its root, "" for the root itself) that a spec.path names for a
 * tree pushed under `prefix` (normalized), or undefined when it is outside the prefix or the bucket.
 * Whether that folder exists is fluxPathProblem's question.
 */
export function treeFolder(fluxPath: string, prefix: string): string | undefined {
    const folder = bucketFolder(fluxPath);
    if (climbsOut(folder) || !`${folder}/`.startsWith(prefix)) return undefined;
    return `${folder}/`.slice(prefix.length).replace(/\/$/, "");
}

/** The folder in the bucket: "" for its root, "prod/apps/prod", or "../x" when it climbs out of it. */
function bucketFolder(fluxPath: string): string {
    return path.posix.join(".", fluxPath).replace(/\/+$/, "").replace(/^\.$/, "");
}

function climbsOut(folder: string): boolean {
    return folder === ".." || folder.startsWith("../");
}
