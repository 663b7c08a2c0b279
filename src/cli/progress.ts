import { createRequire } from "node:module";
import type { Presets as PresetsType, SingleBar as SingleBarType } from "cli-progress";

export interface Progress {
    tick(): void;
    stop(): void;
}

/** A progress bar on stderr when it is a terminal; silent otherwise (CI logs, pipes, tests). */
export function progressBar(label: string, total: number): Progress {
    if (!process.stderr.isTTY || total === 0) return { tick() {}, stop() {} };
    // Loaded only for a terminal: the runs that show no bar (CI, pipes) do not pay for it.
    const { SingleBar, Presets } = createRequire(import.meta.url)("cli-progress") as { SingleBar: typeof SingleBarType; Presets: typeof PresetsType };
    const bar = new SingleBar(
        { format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
    );
    bar.start(total, 0);
    return { tick: () => bar.increment(), stop: () => bar.stop() };
}
