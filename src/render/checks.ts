import path from "node:path";
import { readTree } from "../cli/tree.ts";
import { ValidationCache } from "../cli/validationCache.ts";

export type ObjectToCheck = { file: string; object: unknown };

/** The manifest checks a render runs: the project's `deploy/` tree, and the objects the stacks would apply. */
export interface RenderChecks {
    deploy(): Promise<void>;
    objects(objects: ObjectToCheck[]): Promise<void>;
}

/**
 * The checks, in this thread. What passed before with exactly this content, for this validator, is not checked again:
 * push's validation cache (src/cli/validationCache.ts; `BUCKETOPS_CACHE_DIR`), so a render of an unchanged project
 * never loads the validator. Failures are never remembered. `cache`: undefined checks everything every time.
 */
export function inlineChecks(root: string, cache: ValidationCache | undefined = new ValidationCache()): RenderChecks {
    const validator = () => import("../validate/index.ts");
    const once = async (key: string | undefined, check: () => Promise<unknown>) => {
        if (key !== undefined && cache!.passed(key)) return;
        await check();
        if (key !== undefined) await cache!.remember(key);
    };
    return {
        deploy: async () => {
            const dir = path.join(root, "deploy");
            // Every file of the folder (not what Git would ship: validateTree reads the folder as it is).
            const key = cache?.key((await readTree(dir, { includeIgnored: true })).files, "render: deploy/\n", true);
            await once(key, async () => (await validator()).validateTree(dir));
        },
        objects: async (objects) => once(cache?.objectsKey(objects), async () => (await validator()).validateObjects(objects)),
    };
}
