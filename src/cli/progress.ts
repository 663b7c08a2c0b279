import { SingleBar, Presets } from "cli-progress";

export interface Progress {
    tick(): void;
    stop(): void;
}

/** A progress bar on stderr when it is a terminal; silent otherwise (CI logs, pipes, tests). */
export function progressBar(label: string, total: number): Progress {
    if (!process.stderr.isTTY || total === 0) return { tick() {}, stop() {} };
    const bar = new SingleBar(
        { format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
    );
    bar.start(total, 0);
    return { tick: () => bar.increment(), stop: () => bar.stop() };
}
