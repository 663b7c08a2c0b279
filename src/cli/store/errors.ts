import { CliError } from "../errors";

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
export function connectionFailure(error: unknown, where: string): CliError | undefined {
    for (let e = error as { code?: string; cause?: unknown; errors?: unknown[] } | undefined; e; ) {
        const code = e.code ?? (e.errors?.[0] as { code?: string } | undefined)?.code;
        if (code && NETWORK_CODES.has(code)) {
            return new CliError(
                `cannot reach ${where} (${code}); check the endpoint (--endpoint, --insecure for plain http) ` +
                    `and the network.`,
            );
        }
        e = e.cause as typeof e;
    }
    return undefined;
}
