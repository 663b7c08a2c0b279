import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import os from "node:os";
import { promisify } from "node:util";
import { releaseKey } from "../bucket/keys.ts";
import packageJson from "../../package.json" with { type: "json" };
import type { ObjectStore } from "./store/types.ts";

/** Where a tree came from in git, when it is in a repository. */
export interface GitInfo {
    remote?: string;
    commit: string;
    branch?: string;
    /** The tree has changes that are not committed (what was pushed is not exactly the commit). */
    dirty: boolean;
    author: string;
    subject: string;
}

/**
 * A release record: who changed the prefix, to what, from which commit, and why. Each push and rollback writes one as a
 * new version of `<prefix>.bucketops-release` (under the prefix, so an environment's writer may write only its own;
 * ignored by Flux with the lease, so the revision does not change); `history` pairs each state with the record its
 * writer left.
 */
export interface ReleaseRecord {
    time: string;
    command: "push" | "rollback" | "purge";
    revision: string;
    /** The cloud identity of the credentials (ObjectStore.identity), and who ran it on which host. */
    identity: string;
    user: string;
    git?: GitInfo;
    message?: string;
    bucketops: string;
    added: string[];
    modified: string[];
    removed: string[];
}

const GIT_TIMEOUT_MS = 5_000;

/** The git facts of the repository holding `dir`; undefined outside one, or without git. */
export async function gitInfo(dir: string): Promise<GitInfo | undefined> {
    const git = async (...args: string[]) => (await promisify(execFile)("git", ["-C", dir, ...args], { timeout: GIT_TIMEOUT_MS })).stdout.trim();
    try {
        const [commit, log] = await Promise.all([git("rev-parse", "HEAD"), git("log", "-1", "--format=%an <%ae>%n%s")]);
        const [author, subject = ""] = log.split("\n");
        const [branch, remote, status] = await Promise.all([
            git("symbolic-ref", "--short", "-q", "HEAD").catch(() => undefined),
            git("remote", "get-url", "origin").catch(() => undefined),
            git("status", "--porcelain", "--", ".").catch(() => ""),
        ]);
        return { commit, branch: branch || undefined, remote: remote ? withoutCredentials(remote) : undefined, dirty: status !== "", author, subject };
    } catch {
        return undefined; // not a repository, no commit yet, or no git
    }
}

/** A remote URL without the user and password some put in it (https://token@host/…). */
function withoutCredentials(remote: string): string {
    try {
        const url = new URL(remote);
        url.username = "";
        url.password = "";
        return url.toString();
    } catch {
        return remote; // scp-like git@host:org/repo
    }
}

export interface ReleaseFacts {
    command: "push" | "rollback" | "purge";
    revision: string;
    git?: GitInfo;
    message?: string;
    added: string[];
    modified: string[];
    removed: string[];
}

/** Writes the release record of a push or rollback, under the lease, after its last write. */
export async function writeRelease(store: ObjectStore, prefix: string, facts: ReleaseFacts): Promise<ReleaseRecord> {
    const record: ReleaseRecord = {
        time: new Date().toISOString(),
        command: facts.command,
        revision: facts.revision,
        identity: await store.identity(),
        user: `${os.userInfo().username}@${os.hostname()}`,
        ...(facts.git ? { git: facts.git } : {}),
        ...((facts.message ?? facts.git?.subject) ? { message: facts.message ?? facts.git?.subject } : {}),
        bucketops: packageJson.version,
        added: facts.added,
        modified: facts.modified,
        removed: facts.removed,
    };
    const body = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
    await store.put(releaseKey(prefix), body, { md5: createHash("md5").update(body).digest(), contentType: "application/json" });
    return record;
}

/** A release record read back; undefined for content that is not one. */
export function readRelease(body: Buffer | undefined): ReleaseRecord | undefined {
    if (!body) return undefined;
    try {
        const record = JSON.parse(body.toString("utf8")) as ReleaseRecord;
        return typeof record.revision === "string" && typeof record.identity === "string" ? record : undefined;
    } catch {
        return undefined;
    }
}

/** One line for `history`: who, from which commit, and why. */
export function describeRelease(record: ReleaseRecord): string {
    const commit = record.git ? `, commit ${record.git.commit.slice(0, 12)}${record.git.branch ? ` (${record.git.branch})` : ""}${record.git.dirty ? " with uncommitted changes" : ""}` : "";
    const author = record.git && record.git.author !== record.identity ? ` for ${record.git.author}` : "";
    return `${record.command} by ${record.identity} (${record.user})${author}${commit}${record.message ? `: ${record.message}` : ""}`;
}

/** Writes the release record; the writes are done by then, so a record that cannot be written is a warning. */
export async function recordRelease(store: ObjectStore, prefix: string, facts: ReleaseFacts, log: (line: string) => void): Promise<void> {
    try {
        const record = await writeRelease(store, prefix, facts);
        log(`release record: ${describeRelease(record)}`);
    } catch (error) {
        log(`warning: could not write the release record ${releaseKey(prefix)} (${(error as Error).message}); history will show this state without one`);
    }
}
