import { readFileSync } from "node:fs";
import { UserError } from "../errors.ts";
import { EXIT } from "./exitCodes.ts";

/** An error of a bucketops command: main prints its message alone and exits with its code (EXIT.failed unless said). */
export class CliError extends UserError {}

/** Bad flags or arguments: EXIT.usage, like commander's own usage errors. */
export class UsageError extends CliError {
    constructor(message: string) {
        super(message, EXIT.usage);
    }
}

/** Another writer holds the prefix or changed it while we were writing; nothing was deleted: EXIT.concurrent. */
export class ConcurrentChangeError extends CliError {
    constructor(message: string) {
        super(message, EXIT.concurrent);
    }
}

/** The Bucket fetched another revision than bucketops computed, or Flux reported a failure: EXIT.applyFailed. */
export class ApplyFailedError extends CliError {
    constructor(message: string) {
        super(message, EXIT.applyFailed);
    }
}

/** The cluster did not report the revision within --wait-timeout: EXIT.applyTimeout. */
export class ApplyTimeoutError extends CliError {
    constructor(message: string) {
        super(message, EXIT.applyTimeout);
    }
}

/** Ctrl-C (EXIT.interrupted) or SIGTERM (EXIT.terminated) while a command wrote. */
export class InterruptedError extends CliError {
    constructor(signal: "SIGINT" | "SIGTERM") {
        super(signal === "SIGINT" ? "interrupted (Ctrl-C)" : "terminated (SIGTERM)", signal === "SIGINT" ? EXIT.interrupted : EXIT.terminated);
    }
}

/** The error's codes along its cause chain (and an AggregateError's first error), outermost first. */
export function errorCodes(error: unknown): string[] {
    const codes: string[] = [];
    for (let e = error as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined; e && typeof e === "object"; ) {
        const code = e.code ?? (e.errors?.[0] as { code?: unknown } | undefined)?.code;
        if (typeof code === "string") codes.push(code);
        e = e.cause as typeof e;
    }
    return codes;
}

/** The messages along the error's cause chain, outermost first (undici's "fetch failed" says why only in its cause). */
export function errorMessages(error: unknown): string[] {
    const messages: string[] = [];
    for (let e = error as { message?: unknown; cause?: unknown } | undefined; e && typeof e === "object"; e = e.cause as typeof e) {
        if (typeof e.message === "string" && e.message) messages.push(e.message.trim());
    }
    return messages;
}

/** TLS spoken to a server that answers plain http: OpenSSL's "wrong version number" (ERR_SSL_WRONG_VERSION_NUMBER). */
export function plainHttpAnswer(error: unknown): boolean {
    return errorCodes(error).includes("ERR_SSL_WRONG_VERSION_NUMBER") || errorMessages(error).some((m) => m.includes("wrong version number"));
}

/**
 * Running out of file descriptors (EMFILE: this process's limit; ENFILE: the system's) as one message naming the
 * limit and how to raise it. bucketops keeps its own use small and fixed, so another process or a very low
 * limit is the cause.
 */
export function tooManyOpenFiles(error: unknown): CliError | undefined {
    const code = errorCodes(error).find((c) => c === "EMFILE" || c === "ENFILE");
    if (!code) return undefined;
    const which = code === "EMFILE" ? `this process may open ${OPEN_FILE_LIMIT ? `at most ${OPEN_FILE_LIMIT}` : "no more"} files` : "the system's table of open files is full";
    return new CliError(
        `too many open files (${code}): ${which}. bucketops itself keeps at most a few dozen open; raise the limit ` +
            `(e.g. 'ulimit -n 4096' in this shell) or close what holds descriptors, and re-run.`,
    );
}

/** The soft limit on open files (Linux), read at start-up: once it is reached, reading it fails too. */
const OPEN_FILE_LIMIT = (() => {
    try {
        return /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
    } catch {
        return undefined;
    }
})();
