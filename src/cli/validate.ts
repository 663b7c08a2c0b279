import { ManifestValidationError, validateTree } from "../validate";
import { CliError } from "./errors";

/** Validates the tree with the project's validator (src/validate) before anything is uploaded. */
export async function validateManifests(root: string): Promise<void> {
    try {
        await validateTree(root);
    } catch (error) {
        if (error instanceof ManifestValidationError) {
            throw new CliError(`${root} is not a valid manifest tree, nothing was uploaded:\n${error.message}`);
        }
        throw error;
    }
}
