import path from "node:path";
import { Worker } from "node:worker_threads";
import { ManifestValidationError, Problem } from "../validate";

type Outcome = { ok: true } | { ok: false; problems?: Problem[]; message: string };

/**
 * Validates the `deploy/` tree on a worker thread. `npm run render` starts this before it loads the Pulumi SDK
 * and providers, so the schema checks and `kubectl kustomize` builds overlap that (synchronous) loading and
 * the stack runs instead of following them.
 */
export function validateDeployInWorker(root: string): Promise<void> {
    const worker = new Worker(`require("tsx/cjs"); require(${JSON.stringify(path.join(__dirname, "deployCheck.worker.ts"))});`, {
        eval: true,
        workerData: { dir: path.join(root, "deploy") },
    });
    return new Promise<void>((resolve, reject) => {
        worker.once("error", reject);
        worker.once("message", (outcome: Outcome) => {
            if (outcome.ok) resolve();
            else reject(outcome.problems ? new ManifestValidationError(outcome.problems) : new Error(outcome.message));
        });
    });
}
