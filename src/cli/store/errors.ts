import { CliError, ConcurrentChangeError, errorCodes, plainHttpAnswer, tooManyOpenFiles } from "../errors.ts";
import { noAnswer, type NetworkTimeouts } from "./types.ts";

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
    const code = errorCodes(error).find((c) => NETWORK_CODES.has(c));
    return code ? new CliError(`cannot reach ${where} (${code}); ${hint}.`) : undefined;
}

/**
 * A request given up for want of an answer, after the client's retries: @smithy/node-http-handler's TimeoutError
 * (S3: no connection, or no answer, in time), gaxios's aborted fetch or `request-timeout` (GCS).
 */
export function isTimeout(error: unknown): boolean {
    const { name, type, code } = error as { name?: string; type?: string; code?: string };
    // @smithy/node-http-handler also names a reset or broken connection TimeoutError (its NODEJS_TIMEOUT_ERROR_CODES):
    // that is a dropped connection, not a silence.
    if (code === "ECONNRESET" || code === "EPIPE") return false;
    return name === "TimeoutError" || name === "AbortError" || type === "request-timeout";
}

/**
 * Runs one store operation and turns its failures into one clear message: CliErrors pass through, running
 * out of descriptors and timeouts get their own, network failures say the endpoint is unreachable, anything
 * else goes to the provider's `explain`.
 */
export async function explained<T>(
    operation: () => Promise<T>,
    where: string,
    timeouts: NetworkTimeouts,
    explain: (error: unknown) => CliError,
): Promise<T> {
    const started = Date.now();
    try {
        return await operation();
    } catch (error) {
        if (error instanceof CliError) throw error;
        if (isTimeout(error)) throw new CliError(noAnswer(where, timeouts, Date.now() - started));
        if (plainHttpAnswer(error)) {
            throw new CliError(
                `${where} answers plain http, not https (TLS: "wrong version number"): use an http:// endpoint, or --insecure with a bare host (as Flux's spec.insecure)`,
            );
        }
        throw tooManyOpenFiles(error) ?? connectionFailure(error, where) ?? explain(error);
    }
}

/** A conditional write refused because the object is no longer the one listed. */
export function concurrentWrite(key: string, where: string): ConcurrentChangeError {
    return new ConcurrentChangeError(
        `concurrent change detected: ${key} changed in ${where} since it was listed; another push is ` +
            `probably running. Nothing was deleted; re-run the push when it is done.`,
    );
}

/**
 * The store refused one operation to credentials it accepted (S3 AccessDenied, GCS 403): the identity's
 * policy does not allow it, e.g. a per-environment identity used outside its prefix.
 */
export class AccessDeniedError extends CliError {}

export function accessDenied(what: string, where: string, detail: string, hint: string): AccessDeniedError {
    return new AccessDeniedError(`access denied: ${where} does not allow these credentials to ${what} (${detail}). ${hint}`);
}
