import { ManifestValidationError, validateTree } from "../validate/index.ts";
import { CliError } from "./errors.ts";

/**
 * Validates the tree with the project's validator (src/validate) before anything is uploaded. `prefix` is the
 * key prefix the tree is pushed under: Flux keeps it in artifact paths, so every Flux Kustomization path must start with it.
 */
export async function validateManifests(root: string, prefix: string, options: { build: boolean } = { build: true }): Promise<void> {
    try {
        await validateTree(root, { prefix, build: options.build });
    } catch (error) {
        if (error instanceof ManifestValidationError) {
            throw new CliError(`${root} is not a valid manifest tree, nothing was uploaded:\n${error.message}`);
        }
        throw error;
    }
}
