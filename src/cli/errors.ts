/** An error meant for the user: main prints its message alone and exits with its code. */
export class CliError extends Error {
    readonly exitCode: number;

    constructor(message: string, exitCode = 1) {
        super(message);
        this.exitCode = exitCode;
        this.name = "CliError";
    }
}

/** Bad flags or arguments: exit code 2, like commander's own usage errors. */
export class UsageError extends CliError {
    constructor(message: string) {
        super(message, 2);
        this.name = "UsageError";
    }
}

/** Another writer changed the prefix while we were writing; nothing was deleted. */
export class ConcurrentChangeError extends CliError {
    constructor(message: string) {
        super(message, 4);
        this.name = "ConcurrentChangeError";
    }
}
