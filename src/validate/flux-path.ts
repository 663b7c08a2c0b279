import path from "node:path";
import { isRecord } from "./problems";
import { pathKind } from "./paths";

/**
 * A bucket key prefix as a folder: no leading slash, exactly one trailing slash, `.`/`//` collapsed
 * as in the paths Flux writes the artifact to (`prod`, `/prod/` and `prod//` are all `prod/`).
 * An empty prefix (the bucket root) stays empty.
 */
export function normalizePrefix(prefix: string): string {
    // normalize keeps the trailing slash; the root ("/") becomes "".
    return path.posix.normalize(`/${prefix}/`).replace(/^\/+/, "");
}

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
    // The folder in the bucket: "" for its root, "prod/apps/prod", or "../x" when it climbs out of it.
    const folder = path.posix.join(".", fluxPath).replace(/\/+$/, "").replace(/^\.$/, "");
    if (folder === ".." || folder.startsWith("../")) return `"${fluxPath}" is not a directory of the tree`;
    if (!`${folder}/`.startsWith(prefix)) {
        const forgotPrefix = (await pathKind(path.join(root, folder))) === "directory";
        const allowed = forgotPrefix ? `write ./${prefix}${folder}` : `it must start with ./${prefix}`;
        return `"${fluxPath}" is outside the prefix ${prefix} this tree is pushed under; Flux keeps the prefix in artifact paths, so ${allowed}`;
    }
    const inTree = `${folder}/`.slice(prefix.length).replace(/\/$/, "");
    if ((await pathKind(path.join(root, inTree))) === "directory") return undefined;
    const stripped = prefix === "" ? "" : ` (${inTree} once the prefix ${prefix} is stripped)`;
    return `"${fluxPath}" is not a directory of the tree${stripped}`;
}
