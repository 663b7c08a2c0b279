import { readFileSync } from "node:fs";
import { UsageError } from "./errors";
import { openStore } from "./store";
import type { ObjectStore } from "./store/types";
import { parseBucketUrl } from "./url";

/** Connection flags shared by every command that talks to the bucket. */
export interface ConnectionFlags {
    endpoint?: string;
    region?: string;
    insecure?: boolean;
    profile?: string;
    fromStackOutputs?: string;
    conditionalWrites?: boolean;
}

/** The infra stack's outputs as `pulumi stack output --json --show-secrets` prints them. */
export interface StackOutputs {
    provider?: string;
    bucketName?: string;
    region?: string;
    endpoint?: string;
    insecure?: boolean;
    writerAccessKeyId?: string;
    writerSecretAccessKey?: string;
    writerServiceAccountKey?: string | object;
    kubeconfig?: string;
}

const PROVIDERS_BY_SCHEME: Record<string, string[]> = { s3: ["aws", "generic"], gcs: ["gcp"] };

export function readStackOutputs(file: string): StackOutputs {
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
        throw new UsageError(
            `cannot read stack outputs '${file}': ${(error as Error).message}; ` +
                `expected the JSON of 'pulumi stack output --json --show-secrets'`,
        );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new UsageError(`stack outputs '${file}' must be a JSON object of output names to values`);
    }
    return parsed as StackOutputs;
}

/** Opens the store for a bucket URL: flags first, then the stack outputs, then the SDKs' own chains. */
export function connect(urlText: string, flags: ConnectionFlags): ObjectStore {
    const url = parseBucketUrl(urlText);
    const outputs = flags.fromStackOutputs ? readStackOutputs(flags.fromStackOutputs) : {};
    if (outputs.provider && !PROVIDERS_BY_SCHEME[url.provider].includes(outputs.provider)) {
        throw new UsageError(
            `stack outputs are for provider '${outputs.provider}' but the URL is ${urlText}; ` +
                `bucketops supports aws and generic (s3://) and gcp (gs://)`,
        );
    }
    const key = outputs.writerServiceAccountKey;
    return openStore(url, {
        endpoint: flags.endpoint ?? outputs.endpoint,
        insecure: flags.insecure ?? outputs.insecure,
        region: flags.region ?? outputs.region,
        profile: flags.profile,
        accessKeyId: outputs.writerAccessKeyId,
        secretAccessKey: outputs.writerSecretAccessKey,
        serviceAccountKey: typeof key === "object" ? JSON.stringify(key) : key,
        conditionalWrites: flags.conditionalWrites,
    });
}

/** The stores one run opened, closed together when it ends (their kept-alive sockets would hold the process). */
export class Stores {
    private readonly opened: ObjectStore[] = [];

    open(url: string, flags: ConnectionFlags): ObjectStore {
        const store = connect(url, flags);
        this.opened.push(store);
        return store;
    }

    closeAll(): void {
        for (const store of this.opened.splice(0)) store.close();
    }
}
