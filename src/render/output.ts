import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * Writes the files to a fresh temporary folder beside `target`, then swaps it in: a failed or interrupted
 * render never leaves a half-written `out/<stack>`.
 */
export function writeFolder(target: string, files: Map<string, string>): void {
    const staging = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    rmSync(staging, { recursive: true, force: true });
    try {
        for (const [file, content] of files) {
            mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
            writeFileSync(path.join(staging, file), content);
        }
        rmSync(target, { recursive: true, force: true });
        renameSync(staging, target);
    } finally {
        rmSync(staging, { recursive: true, force: true });
    }
}
