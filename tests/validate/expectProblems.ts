import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ManifestValidationError, type Problem } from "../../src/validate/index.ts";

export const DEPLOY_DIR = path.resolve(import.meta.dirname, "../../deploy");

/** Awaits `run` and asserts it throws ManifestValidationError with exactly these problems, in order. */
export async function expectProblems(run: () => Promise<unknown>, expected: Problem[]): Promise<void> {
    await assert.rejects(run, (error: unknown) => {
        assert.ok(error instanceof ManifestValidationError, `expected ManifestValidationError, got ${String(error)}`);
        assert.deepEqual(error.problems, expected);
        return true;
    });
}

/** A throwaway copy of deploy/ to break; removed when the test ends. */
export function copyOfDeploy(t: { after(fn: () => void): void }): string {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), "flux-bucket-deploy-")), "deploy");
    cpSync(DEPLOY_DIR, dir, { recursive: true });
    t.after(() => rmSync(path.dirname(dir), { recursive: true, force: true }));
    return dir;
}

/** Rewrites one file of a copy; fails the test if the text to replace is not there. */
export function edit(dir: string, file: string, from: string, to: string): void {
    const full = path.join(dir, file);
    const text = readFileSync(full, "utf8");
    if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
    writeFileSync(full, text.replace(from, to));
}

/** A throwaway tree of these files (path → content); removed when the test ends. */
export function treeOf(t: { after(fn: () => void): void }, files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(tmpdir(), "flux-bucket-tree-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [file, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), content);
    }
    return dir;
}
