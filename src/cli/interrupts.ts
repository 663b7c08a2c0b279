import { InterruptedError } from "./errors.ts";
import { EXIT } from "./exitCodes.ts";

/**
 * Ctrl-C (SIGINT) and SIGTERM (CI cancellation, `timeout`, `kill`) while a command writes: the first one asks the
 * command to stop where it safely can (no new write starts, the ones under way finish, nothing is deleted, the lease
 * is let go as `interrupted`; a barrier or a wait ends at once), and the run ends with 130 or 143 and a message. A
 * second one quits at once. Outside `whileWriting`, the signals keep Node's default (exit at once: nothing written).
 */
export class Interrupts {
    private static active?: Interrupts;
    private readonly controller = new AbortController();
    /** The first signal received. */
    signal?: "SIGINT" | "SIGTERM";

    /** The AbortSignal of the writing run, if one is under way (polls end at once when it aborts). */
    static get current(): AbortSignal | undefined {
        return Interrupts.active?.controller.signal;
    }

    /** Throws InterruptedError when the writing run under way got a signal. */
    static check(): void {
        const active = Interrupts.active;
        if (active?.signal) throw new InterruptedError(active.signal);
    }

    /** Whether the writing run under way got a signal. */
    static get received(): "SIGINT" | "SIGTERM" | undefined {
        return Interrupts.active?.signal;
    }

    /**
     * `work`, or InterruptedError as soon as the writing run under way gets a signal (what `work` does goes on unwatched:
     * for a wait that holds nothing back, such as validation under a lease that is let go next).
     */
    static async until<T>(work: Promise<T>): Promise<T> {
        const signal = Interrupts.current;
        if (!signal) return work;
        if (signal.aborted) throw signal.reason;
        let onAbort!: () => void;
        const aborted = new Promise<never>((_, reject) => {
            onAbort = () => reject(signal.reason);
            signal.addEventListener("abort", onAbort, { once: true });
        });
        try {
            return await Promise.race([work, aborted]);
        } finally {
            signal.removeEventListener("abort", onAbort);
        }
    }

    /** Runs `work` with the handlers installed (nested calls share the outer one's). */
    static async whileWriting<T>(work: () => Promise<T>): Promise<T> {
        if (Interrupts.active) return work();
        const interrupts = new Interrupts();
        Interrupts.active = interrupts;
        const second = (signal: NodeJS.Signals) => process.exit(signal === "SIGINT" ? EXIT.interrupted : EXIT.terminated);
        const first = (signal: "SIGINT" | "SIGTERM") => {
            interrupts.signal ??= signal;
            interrupts.controller.abort(new InterruptedError(signal));
            process.removeListener("SIGINT", onInt);
            process.removeListener("SIGTERM", onTerm);
            process.once("SIGINT", second);
            process.once("SIGTERM", second);
        };
        const onInt = () => first("SIGINT");
        const onTerm = () => first("SIGTERM");
        process.once("SIGINT", onInt);
        process.once("SIGTERM", onTerm);
        try {
            return await work();
        } finally {
            Interrupts.active = undefined;
            for (const listener of [onInt, onTerm, second]) {
                process.removeListener("SIGINT", listener);
                process.removeListener("SIGTERM", listener);
            }
        }
    }
}
