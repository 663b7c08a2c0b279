import { CliError, ConcurrentChangeError } from "../errors";

const NETWORK_CODES = new Set([
    "ECONNREFUSED",
    "ECONNRESET",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EPIPE",
]);

/** A CliError when `error` (or its cause) is a failure to reach the endpoint at all. */
export function connectionFailure(
    error: unknown,
    where: string,
    hint = "check the endpoint (--endpoint, --insecure for plain http) and the network",
): CliError | undefined {
    for (let e = error as { code?: string; cause?: unknown; errors?: unknown[] } | undefined; e; ) {
        const code = e.code ?? (e.errors?.[0] as { code?: string } | undefined)?.code;
        if (code && NETWORK_CODES.has(code)) {
            return new CliError(`cannot reach ${where} (${code}); ${hint}.`);
        }
        e = e.cause as typeof e;
    }
    return undefined;
}

/**
 * Runs one store operation and turns its failures into one clear message: CliErrors pass through,
 * network failures say the endpoint is unreachable, anything else goes to the provider's `explain`.
 */
export async function explained<T>(
    operation: () => Promise<T>,
    where: string,
    explain: (error: unknown) => CliError,
): Promise<T> {
    try {
        return await operation();
    } catch (error) {
        if (error instanceof CliError) throw error;
        throw connectionFailure(error, where) ?? explain(error);
    }
}

/** A conditional write refused because the object is no longer the one listed. */
export function concurrentWrite(key: string, where: string): ConcurrentChangeError {
    return new ConcurrentChangeError(
        `concurrent change detected: ${key} changed in ${where} since it was listed; another push is ` +
            `probably running. Nothing was deleted; re-run the push when it is done.`,
    );
}
