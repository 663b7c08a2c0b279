import type { LocalFile } from "./tree.ts";
import type { ObjectEntry } from "./store/types.ts";

export interface Upload {
    key: string;
    file: LocalFile;
    /** The object it replaces, or null for a new key. */
    previous: ObjectEntry | null;
}

export interface PushPlan {
    uploads: Upload[];
    unchanged: ObjectEntry[];
    deletes: ObjectEntry[];
    /** Objects no longer in the tree that --no-prune keeps. */
    retained: ObjectEntry[];
    /** The bucket's root `.sourceignore`, which a push to the root prunes only when the tree has its own. */
    keptSourceignore?: boolean;
}

/**
 * Diffs the local tree against one listing of the prefix. An object is unchanged when its size and
 * MD5 match; where the store cannot tell the MD5 (multipart or KMS ETags) the file is re-uploaded.
 */
export function planPush(files: LocalFile[], remote: ObjectEntry[], keyPrefix: string, prune: boolean): PushPlan {
    const byKey = new Map(remote.map((entry) => [entry.key, entry]));
    const plan: PushPlan = { uploads: [], unchanged: [], deletes: [], retained: [] };
    const local = new Set<string>();
    for (const file of files) {
        const key = keyPrefix + file.relative;
        local.add(key);
        const previous = byKey.get(key) ?? null;
        if (previous && previous.size === file.size && previous.md5 === file.md5.toString("hex")) {
            plan.unchanged.push(previous);
        } else {
            plan.uploads.push({ key, file, previous });
        }
    }
    const gone = remote.filter((entry) => !local.has(entry.key));
    if (prune) plan.deletes = gone;
    else plan.retained = gone;
    return plan;
}
