// Builds that `kubectl kustomize` made for earlier validations, kept by everything they read, so that a tree with one
// file changed runs kustomize only for the entry points whose inputs changed (a fleet's one-change push). A kept build
// is used only when its key is the same: the validator's identity (the cache's folder, src/cli/validationCache.ts), the
// entry point's folder, the Flux Kustomization fields the build uses and the file declaring it (which generated objects
// are named after), and the path and content of every file the
// build reads as the validator follows them (FluxTree.inputs: the kustomization files and what they reference, or
// the files Flux's generator lists). Where kustomize may read what the validator does not follow (UNFOLLOWED fields,
// remote bases) nothing is kept.
import { createHash } from "node:crypto";

/** A build's objects, each with the file it came from (relative to the tree's root, '/'-separated). */
export interface CachedBuild {
    objects: { object: unknown; file: string }[];
}

export interface BuildCache {
    get(key: string): CachedBuild | undefined;
    set(key: string, build: CachedBuild): void;
}

/**
 * Kustomization fields through which kustomize reads files that localReferences does not list: the OpenAPI schema,
 * Helm charts, and what the configurations of generator, transformer and validator plugins name in turn (their own
 * files are listed, not the files those name).
 */
export const UNFOLLOWED_FIELDS = ["openapi", "helmCharts", "helmGlobals", "helmChartInflationGenerator", "generators", "transformers", "validators"];

/** The key of a build: its folder and fields, then each input as `path\0sha256` in path order. */
export function buildKey(folder: string, fields: unknown, inputs: { file: string; digest: string }[]): string {
    const hash = createHash("sha256").update(JSON.stringify([folder, fields]));
    for (const { file, digest } of [...inputs].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) hash.update(`\n${file}\0${digest}`);
    return hash.digest("hex");
}
