// Offline validation of manifests against the Kubernetes and Flux schemas, used by render, by
// `bucketops push` before it uploads, and by the tests.
import { checkObject } from "./checkObject.ts";
import { throwIfAny } from "./problems.ts";
import { loadSchemas } from "./schemas.ts";

export { ManifestValidationError, formatProblem, type Problem } from "./problems.ts";
export { validateTree, type ValidateTreeOptions, type ValidationReport } from "./tree.ts";
export { kustomizeBuild, type KustomizeBuildResult } from "./kustomize.ts";
export { listYamlFiles, parseYamlFile, parseYamlText, type ParsedYamlFile } from "./yamlFiles.ts";

/**
 * Schema-checks already-parsed objects (what Pulumi would apply). `file` names where each came from
 * in messages. Unknown apiVersion/kind is an error (these are the project's own objects). Throws ManifestValidationError.
 */
export async function validateObjects(objects: { file: string; object: unknown }[]): Promise<void> {
    const schemas = await loadSchemas(objects.map(({ object }) => object));
    throwIfAny(objects.flatMap(({ file, object }) => checkObject(file, object, schemas, { strict: true })));
}
