import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.ts";
import { mapBounded } from "./bounded.ts";
import { followLink, readInTree, walkFiles } from "./walk.ts";

/** What Git says of a folder of a work tree (paths relative to it, '/'-separated, sorted). */
export interface GitListing {
    /**
     * What a commit made from here would hold: the tracked files (even those an ignore rule matches now, as Git keeps
     * shipping a tracked file) and the untracked files no ignore rule matches. Tracked files deleted from the disk are
     * listed too (the caller finds them gone); a submodule or a nested repository is one entry ending in '/'.
     */
    files: string[];
    /** The untracked paths that Git ignores: a folder ignored as a whole is one entry ending in '/' ("./" for the folder itself). */
    ignored: string[];
}

/** Git's own failures (other than "not a repository"): bad local input, exit 2, as for a bad tree entry. */
export class GitListingError extends UserError {
    constructor(message: string) {
        super(message, 2);
    }
}

const GIT_TIMEOUT_MS = 60_000;
/** ls-files of a tree of a million paths fits. */
const MAX_OUTPUT = 512 * 1024 * 1024;

/**
 * What Git would commit from `dir` and what it ignores there, asked of Git itself (`git ls-files`: every
 * `.gitignore` level, `.git/info/exclude`, the user's `core.excludesFile`), so its rules are never re-implemented:
 * two processes, whatever the number of files. Undefined when `dir` is in no Git work tree. Without a `git`
 * program, a folder under a `.git` is refused (its ignore rules cannot be known) and any other is outside Git.
 */
export async function gitListing(dir: string): Promise<GitListing | undefined> {
    // Git finds a repository only where one of these is (setup.c's discovery): asking it elsewhere starts two processes
    // for the answer "not a git repository".
    if (!mayBeInGit(dir)) return undefined;
    const list = (...args: string[]) => lsFiles(dir, args);
    const [files, ignored] = await Promise.allSettled([
        list("--cached", "--others", "--exclude-standard"),
        list("--others", "--ignored", "--exclude-standard", "--directory"),
    ]);
    if (files.status === "rejected" || ignored.status === "rejected") {
        const error = (files.status === "rejected" ? files.reason : (ignored as PromiseRejectedResult).reason) as Error & { code?: unknown; stderr?: string };
        if (error.code === "ENOENT") {
            if (underGit(dir)) {
                throw new GitListingError(
                    `${dir} is in a Git work tree, but there is no git program to ask which files it ignores: install git, ` +
                        `or pass --include-ignored to ship every file`,
                );
            }
            return undefined;
        }
        const stderr = (error.stderr ?? "").trim();
        if (/not a git repository/i.test(stderr)) return undefined;
        throw new GitListingError(`git could not list the files of ${dir}: ${stderr.split("\n")[0] || error.message}; pass --include-ignored to ship every file without asking Git`);
    }
    const sorted = (paths: string[]) => [...new Set(paths)].sort();
    return { files: sorted(files.value), ignored: sorted(ignored.value) };
}

function lsFiles(dir: string, args: string[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
        // -z: names as they are (no quoting of unusual characters); core.quotePath does not apply.
        execFile("git", ["-C", dir, "ls-files", "-z", ...args], { timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: "utf8" }, (error, stdout, stderr) => {
            if (error) reject(Object.assign(error, { stderr }));
            else resolve(stdout.split("\0").filter((entry) => entry !== ""));
        });
    });
}

/**
 * Whether Git could find a repository for `dir`: GIT_DIR or GIT_WORK_TREE set, a `.git` in it or above it, or it or a
 * folder above it is itself a repository's directory (git's is_git_directory: HEAD, objects/ and refs/; a bare
 * repository or a folder in a `.git`). Where none holds, `git ls-files` says "not a git repository".
 */
export function mayBeInGit(dir: string): boolean {
    if (process.env.GIT_DIR !== undefined || process.env.GIT_WORK_TREE !== undefined) return true;
    for (let current = path.resolve(dir); ; current = path.dirname(current)) {
        if (existsSync(path.join(current, ".git"))) return true;
        if (["HEAD", "objects", "refs"].every((entry) => existsSync(path.join(current, entry)))) return true;
        if (path.dirname(current) === current) return false;
    }
}

/** Whether `dir` or a folder above it holds a `.git` (a repository's folder, or a worktree's file). */
function underGit(dir: string): boolean {
    for (let current = path.resolve(dir); ; current = path.dirname(current)) {
        if (existsSync(path.join(current, ".git"))) return true;
        if (path.dirname(current) === current) return false;
    }
}

/**
 * The absolute paths of what Git lists, with the walk's rules for what is on the disk: a tracked file deleted from
 * the disk is not there; a symlink to a file is shipped as a copy, and one to a folder of the tree as the files Git
 * would ship from that folder (a symlink out of the tree, dangling or looping is a TreeEntryError, as in the walk).
 * Files reached through a symlinked folder that Git ignores at their real place are counted with the ignored.
 * `skipped`: folders never walked (`.git`).
 */
export async function gitTreeFiles(root: string, listing: GitListing, skipped: Set<string>) {
    const realRoot = await realpath(root);
    const listed = new Set(listing.files);
    const nestedRepositories = listing.files.filter((entry) => entry.endsWith("/"));
    const ignored = [...listing.ignored];
    const found = await mapBounded(
        listing.files.filter((entry) => !entry.endsWith("/")),
        async (entry): Promise<string[]> => {
            const absolute = path.join(root, ...entry.split("/"));
            const kind = await readInTree(absolute, () => lstat(absolute)).catch((error: NodeJS.ErrnoException) => {
                if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined; // tracked, deleted from the disk
                throw error;
            });
            if (kind?.isFile()) return [absolute];
            if (kind?.isDirectory()) {
                nestedRepositories.push(`${entry}/`); // a submodule: the index holds a link to its commit, not its files
                return [];
            }
            if (!kind?.isSymbolicLink()) return []; // gone, or a socket, FIFO or device: not a manifest
            const target = await followLink(absolute, realRoot);
            if (target.kind === "file") return [absolute];
            if (target.kind !== "folder") return [];
            const inside: string[] = [];
            for (const file of await walkFiles(root, { skipFolder: (name) => skipped.has(name), start: absolute })) {
                const real = path.join(await realpath(path.dirname(file)), path.basename(file));
                const atRealPlace = path.relative(realRoot, real).split(path.sep).join("/");
                if (listed.has(atRealPlace)) inside.push(file);
                else ignored.push(path.relative(root, file).split(path.sep).join("/"));
            }
            return inside;
        },
    );
    return { paths: found.flat().sort(), ignored: ignored.sort(), nestedRepositories: nestedRepositories.sort() };
}
