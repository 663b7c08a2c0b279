import path from "node:path";

export type ObjectToCheck = { file: string; object: unknown };

/** The manifest checks a render runs: the project's `deploy/` tree, and the objects the stacks would apply. */
export interface RenderChecks {
    deploy(): Promise<void>;
    objects(objects: ObjectToCheck[]): Promise<void>;
}

/**
 * The checks, in this thread. The validator loads on the first call. The `deploy/` check runs once, however often it
 * is asked for: `npm run render` starts it before it loads the Pulumi SDK and providers (so that any `kubectl kustomize`
 * builds it needs run meanwhile) and renderStack waits for it at the end.
 */
export function inlineChecks(root: string): RenderChecks {
    const validator = () => import("../validate/index.ts");
    let deployChecked: Promise<void> | undefined;
    return {
        deploy: () => (deployChecked ??= validator().then(async ({ validateTree }) => void (await validateTree(path.join(root, "deploy"))))),
        objects: async (objects) => (await validator()).validateObjects(objects),
    };
}
