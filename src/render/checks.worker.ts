import module from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import type { CheckOutcome, CheckRequest, CheckWorkerData } from "./checks.ts";

// The compile cache is per thread: switched on here, as the main thread has it (bin/render.js), before the validator loads.
if ((workerData as CheckWorkerData | undefined)?.compileCache) module.enableCompileCache?.();
const validator = import("../validate/index.ts");

parentPort!.on("message", async (request: CheckRequest) => {
    const reply = (outcome: CheckOutcome) => parentPort!.postMessage({ id: request.id, ...outcome });
    const { ManifestValidationError, validateObjects, validateTree } = await validator;
    try {
        await (request.kind === "deploy" ? validateTree(request.dir) : validateObjects(request.objects));
        reply({ ok: true });
    } catch (error) {
        const problems = error instanceof ManifestValidationError ? error.problems : undefined;
        reply({ ok: false, message: (error as Error).message, problems });
    }
});
