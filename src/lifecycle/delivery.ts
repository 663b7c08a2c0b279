import { PUSH_DEFAULTS, runPush } from "../cli/commands/push.ts";
import { status } from "../cli/status.ts";
import { Stores, type StackOutputs } from "../cli/connection.ts";
import { DEFAULTS } from "../cli/flags.ts";
import { pushTarget, type Delivery, type Outputs } from "./lifecycle.ts";

/**
 * `bucketops push` and `bucketops status --reconcile --wait`, run in-process with the stacks' outputs in memory:
 * the writer's credentials and the kubeconfig are handed over as values, never written to a file. The push is the
 * CLI's own action with its defaults (src/cli/commands/push.ts): with both stacks' outputs it finds the cluster
 * (kubeconfig) and its Bucket, publishes atomically and waits for the apply.
 */
export function bucketopsDelivery(log: (line: string) => void, waitSeconds: number): Delivery {
    return {
        async push(tree: string, infra: Outputs, flux: Outputs): Promise<string> {
            const stores = new Stores();
            try {
                const stackOutputs = { ...infra, ...flux } as StackOutputs;
                const { revision } = await runPush(tree, pushTarget(infra, flux), { ...PUSH_DEFAULTS, waitTimeout: waitSeconds, stackOutputs }, stores, { log });
                return revision!;
            } finally {
                stores.closeAll();
            }
        },
        async waitFor(infra: Outputs, flux: Outputs): Promise<boolean> {
            const stores = new Stores();
            try {
                const stackOutputs = { ...infra, ...flux } as StackOutputs;
                const timeouts = { connectTimeout: DEFAULTS.connectTimeout, timeout: DEFAULTS.timeout };
                return await status({ ...timeouts, stackOutputs, reconcile: true, waitSeconds, log }, (url, flags) => stores.open(url, flags));
            } finally {
                stores.closeAll();
            }
        },
    };
}
