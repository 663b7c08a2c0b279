import { parentPort } from "node:worker_threads";
import { ManifestValidationError, validateObjects, validateTree } from "../validate/index.ts";
import type { CheckOutcome, CheckRequest } from "./checks.ts";

parentPort!.on("message", async (request: CheckRequest) => {
    const reply = (outcome: CheckOutcome) => parentPort!.postMessage({ id: request.id, ...outcome });
    try {
        await (request.kind === "deploy" ? validateTree(request.dir) : validateObjects(request.objects));
        reply({ ok: true });
    } catch (error) {
        const problems = error instanceof ManifestValidationError ? error.problems : undefined;
        reply({ ok: false, message: (error as Error).message, problems });
    }
});
