// Offline validation of manifests against the Kubernetes and Flux schemas, used by render, by
// `bucketops push` before it uploads, and by the tests.
import { checkObject } from "./check-object";
import { throwIfAny } from "./problems";
import { apiVersionsOf, loadSchemas } from "./schemas";

export { ManifestValidationError, formatProblem, type Problem } from "./problems";
export { validateTree, type ValidateTreeOptions } from "./tree";
export { kustomizeBuild, type KustomizeBuildResult } from "./kustomize";
export { listYamlFiles, parseYamlFile, parseYamlText, type ParsedYamlFile } from "./yaml-files";

/**
 * Schema-checks already-parsed objects (what Pulumi would apply). `file` names where each came from
 * in messages. Unknown apiVersion/kind is an error. Throws ManifestValidationError.
 */
export async function validateObjects(objects: { file: string; object: unknown }[]): Promise<void> {
    const schemas = await loadSchemas(apiVersionsOf(objects.map(({ object }) => object)));
    throwIfAny(objects.flatMap(({ file, object }) => checkObject(file, object, schemas)));
}
