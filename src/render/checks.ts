import path from "node:path";

export type ObjectToCheck = { file: string; object: unknown };

/** The manifest checks a render runs: the project's `deploy/` tree, and the objects the stacks would apply. */
export interface RenderChecks {
    deploy(): Promise<void>;
    objects(objects: ObjectToCheck[]): Promise<void>;
}

/** The checks, in this thread; the validator loads on the first call. */
export function inlineChecks(root: string): RenderChecks {
    const validator = () => import("../validate/index.ts");
    return {
        deploy: async () => void (await (await validator()).validateTree(path.join(root, "deploy"))),
        objects: async (objects) => (await validator()).validateObjects(objects),
    };
}
