import type { Stores } from "../connection.ts";

/** Where a run writes, and the exit code an action chose without failing (status: EXIT.behind; diff: EXIT.failed when different). */
export interface Io {
    out: (line: string) => void;
    err: (line: string) => void;
    exitCode: number;
    /** Colour output (diff) for a terminal. */
    color?: boolean;
    /** Asks a question on the terminal (purge's confirmation); unset without one. */
    ask?: (question: string) => Promise<string>;
}

/** What every command's action gets: the run's output and the stores it opens (closed when the run ends). */
export interface CommandContext {
    io: Io;
    stores: Stores;
    /** The run's arguments (without node and script), for messages that give the command to re-run. */
    args: string[];
}
