import module from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";
// Only the error type here: the validator itself loads where the checks run (the worker, or inlineChecks' first call),
// so that `npm run render`'s main thread, busy loading the Pulumi SDK and providers, does not load it too.
import { ManifestValidationError, type Problem } from "../validate/problems.ts";

export type ObjectToCheck = { file: string; object: unknown };

/** The manifest checks a render runs: the project's `deploy/` tree, and the objects the stacks would apply. */
export interface RenderChecks {
    deploy(): Promise<void>;
    objects(objects: ObjectToCheck[]): Promise<void>;
}

export function inlineChecks(root: string): RenderChecks {
    const validator = () => import("../validate/index.ts");
    return {
        deploy: async () => void (await (await validator()).validateTree(path.join(root, "deploy"))),
        objects: async (objects) => (await validator()).validateObjects(objects),
    };
}

export type CheckRequest = { id: number } & ({ kind: "deploy"; dir: string } | { kind: "objects"; objects: ObjectToCheck[] });
export type CheckOutcome = { ok: true } | { ok: false; message: string; problems?: Problem[] };
export type CheckReply = { id: number } & CheckOutcome;
/** Whether the worker switches the compile cache on: when this thread has it (the cache is per thread). */
export type CheckWorkerData = { compileCache: boolean };

/**
 * The same checks on a worker thread. `npm run render` starts it before it loads the Pulumi SDK and providers,
 * which block the main thread for a while: the `deploy/` check (kustomize builds) runs meanwhile, and the
 * schemas it loads are the ones the rendered objects need.
 */
export class WorkerChecks implements RenderChecks {
    private readonly worker = new Worker(new URL("./checks.worker.ts", import.meta.url), {
        workerData: { compileCache: module.getCompileCacheDir?.() !== undefined } satisfies CheckWorkerData,
    });
    private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
    private nextId = 0;
    private readonly deployChecked: Promise<void>;

    constructor(root: string) {
        this.worker.on("message", (reply: CheckReply) => {
            const request = this.pending.get(reply.id)!;
            this.pending.delete(reply.id);
            if (reply.ok) request.resolve();
            else request.reject(reply.problems ? new ManifestValidationError(reply.problems) : new Error(reply.message));
        });
        this.worker.on("error", (error) => this.pending.forEach(({ reject }) => reject(error)));
        this.deployChecked = this.request({ kind: "deploy", dir: path.join(root, "deploy") });
        this.deployChecked.catch(() => undefined); // observed by deploy(); not "unhandled" if the render fails first
    }

    deploy(): Promise<void> {
        return this.deployChecked;
    }

    objects(objects: ObjectToCheck[]): Promise<void> {
        return this.request({ kind: "objects", objects });
    }

    close(): Promise<number> {
        return this.worker.terminate();
    }

    private request(body: { kind: "deploy"; dir: string } | { kind: "objects"; objects: ObjectToCheck[] }): Promise<void> {
        const id = this.nextId++;
        return new Promise<void>((resolve, reject) => {
            this.pending.set(id, { resolve, reject });
            this.worker.postMessage({ id, ...body } satisfies CheckRequest);
        });
    }
}
