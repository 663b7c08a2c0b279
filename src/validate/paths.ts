import { stat } from "node:fs/promises";
import path from "node:path";

export async function pathKind(target: string): Promise<"file" | "directory" | "missing"> {
    try {
        const stats = await stat(target);
        return stats.isDirectory() ? "directory" : "file";
    } catch {
        return "missing";
    }
}

export function isInside(root: string, target: string): boolean {
    const relative = path.relative(root, target);
    return relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
