import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** One stack as the stand-in's backend holds it. */
export interface StandInStack {
    /** Its outputs now (empty: never deployed, or destroyed). */
    outputs: Record<string, unknown>;
    /** Which outputs are secrets (`[secret]` without --show-secrets). */
    secrets: string[];
    /** The outputs an `up` leaves. */
    upOutputs: Record<string, unknown>;
    /** What a preview or up reports (the summary event's resourceChanges). */
    changes: Record<string, number>;
    /** Resources a destroy deletes. */
    resources: number;
    updates: number;
    /** What its operations write on stderr (warnings). */
    stderr?: string;
    /** Commands that fail (preview, up, destroy, previewDestroy), with their error diagnostics. */
    fail?: Record<string, string[]>;
}

export interface StandInState {
    version: string;
    loggedIn: boolean;
    user: string;
    url: string;
    /** The user's current stack (what `pulumi stack select` sets). */
    current?: string;
    stacks: Record<string, StandInStack>;
    /** Every invocation's arguments, in order. */
    calls: string[][];
}

/**
 * A `pulumi` executable on PATH that answers as the real CLI does (tests/support/pulumiStandIn.mjs, with its upstream
 * references), over a state file this process reads and writes between commands.
 */
export class PulumiStandIn {
    readonly dir = mkdtempSync(path.join(tmpdir(), "pulumi-stand-in-"));
    private readonly statePath = path.join(this.dir, "state.json");
    private readonly saved = { PATH: process.env.PATH, PULUMI_STAND_IN_STATE: process.env.PULUMI_STAND_IN_STATE };

    constructor(state: Partial<StandInState> = {}) {
        const bin = path.join(this.dir, "bin");
        mkdirSync(bin);
        const script = path.join(import.meta.dirname, "pulumiStandIn.mjs");
        writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
        chmodSync(path.join(bin, "pulumi"), 0o755);
        this.write({ version: "v3.270.0", loggedIn: true, user: "alice", url: "https://app.pulumi.com/alice", stacks: {}, calls: [], ...state });
        process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
        process.env.PULUMI_STAND_IN_STATE = this.statePath;
    }

    read(): StandInState {
        return JSON.parse(readFileSync(this.statePath, "utf8"));
    }

    write(state: StandInState): void {
        writeFileSync(this.statePath, JSON.stringify(state, null, 2));
    }

    update(change: (state: StandInState) => void): void {
        const state = this.read();
        change(state);
        this.write(state);
    }

    /** The commands run, as `pulumi <args>` without the flags that name temporary ports. */
    commands(): string[] {
        return this.read().calls.map((call) => call.filter((arg, i) => !arg.startsWith("tcp://") && call[i - 1] !== "--event-log" && arg !== "--event-log").join(" "));
    }

    close(): void {
        for (const [name, value] of Object.entries(this.saved)) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
        rmSync(this.dir, { recursive: true, force: true });
    }
}

export const standInStack = (stack: Partial<StandInStack> = {}): StandInStack => ({
    outputs: {},
    secrets: [],
    upOutputs: {},
    changes: { create: 3, same: 1 },
    resources: 4,
    updates: 0,
    ...stack,
});
