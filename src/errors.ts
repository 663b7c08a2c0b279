/**
 * A problem the user can fix (bad input, a refused request, a local file), as opposed to a bug: the CLI and the
 * render print its message alone, without a stack trace, and exit with `exitCode`. Every user-facing error extends it.
 */
export class UserError extends Error {
    readonly exitCode: number;

    constructor(message: string, exitCode = 1) {
        super(message);
        this.exitCode = exitCode;
        this.name = new.target.name;
    }
}
