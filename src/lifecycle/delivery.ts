import { Stores, type StackOutputs } from "../cli/connection.ts";
import { openPublication } from "../cli/deliver.ts";
import { push } from "../cli/push.ts";
import { status } from "../cli/status.ts";
import { DEFAULT_TIMEOUTS } from "../cli/store/types.ts";
import { ValidationCache } from "../cli/validationCache.ts";
import { pushTarget, type Delivery, type Outputs } from "./lifecycle.ts";

/**
 * `bucketops push` and `bucketops status --reconcile --wait`, run in-process with the stacks' outputs in memory:
 * the writer's credentials and the kubeconfig are handed over as values, never written to a file.
 */
export function bucketopsDelivery(log: (line: string) => void, waitSeconds: number): Delivery {
    const timeouts = { connectTimeout: DEFAULT_TIMEOUTS.connectMs / 1000, timeout: DEFAULT_TIMEOUTS.requestMs / 1000 };
    return {
        async push(tree: string, infra: Outputs, flux: Outputs): Promise<string> {
            const stores = new Stores();
            try {
                // With both stacks' outputs the push finds the cluster (kubeconfig) and its Bucket: it publishes atomically.
                const connection = { ...timeouts, stackOutputs: { ...infra, ...flux } as StackOutputs };
                const store = await stores.open(pushTarget(infra, flux), connection);
                const publication = await openPublication(connection, store, "push", log);
                const { revision } = await push(tree, store, {
                    prune: true,
                    dryRun: false,
                    allowUnversioned: false,
                    validationCache: new ValidationCache(),
                    concurrency: 16,
                    lease: { waitMs: 0, breakStale: false, conditional: true },
                    publication,
                    log,
                });
                return revision!;
            } finally {
                stores.closeAll();
            }
        },
        async waitFor(infra: Outputs, flux: Outputs): Promise<boolean> {
            const stores = new Stores();
            try {
                const stackOutputs = { ...infra, ...flux } as StackOutputs;
                return await status({ ...timeouts, stackOutputs, reconcile: true, waitSeconds, log }, (url, flags) => stores.open(url, flags));
            } finally {
                stores.closeAll();
            }
        },
    };
}
