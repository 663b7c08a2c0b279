import { statSync } from "node:fs";
import path from "node:path";

/**
 * What a path of the tree is. Asked once per resource a kustomization lists (thousands in a large tree), so the stat
 * is synchronous: through the thread pool and a promise each costs several times the stat (src/fs/bounded.ts).
 */
export async function pathKind(target: string): Promise<"file" | "directory" | "missing"> {
    try {
        const stats = statSync(target, { throwIfNoEntry: false });
        return stats === undefined ? "missing" : stats.isDirectory() ? "directory" : "file";
    } catch {
        return "missing";
    }
}

export function isInside(root: string, target: string): boolean {
    const relative = path.relative(root, target);
    return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
