import { parentPort, workerData } from "node:worker_threads";
import { ManifestValidationError, validateTree } from "../validate";

validateTree(workerData.dir).then(
    () => parentPort!.postMessage({ ok: true }),
    (error: Error) =>
        parentPort!.postMessage({ ok: false, message: error.message, problems: error instanceof ManifestValidationError ? error.problems : undefined }),
);
