import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import os from "node:os";
import { promisify } from "node:util";
import { mayBeInGit } from "../fs/gitFiles.ts";
import { releaseKey } from "../bucket/keys.ts";
import packageJson from "../../package.json" with { type: "json" };
import { sortBytewise } from "./revision.ts";
import type { ObjectEntry, ObjectStore } from "./store/types.ts";

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
 * One object of a release manifest: the key, the exact version the release left current, its ETag (what Flux
 * indexes), its size, and its MD5 where the store tells it (S3: a single-part ETag; GCS: md5Hash).
 */
export type ManifestEntry = [key: string, versionId: string, etag: string, size: number, md5?: string];

/**
 * A release record: who changed the prefix, to what, from which commit, and why. Each push, rollback, promotion and purge
 * writes one as a new version of `<prefix>.bucketops-release` (under the prefix, so an environment's writer may write
 * only its own; ignored by Flux with the lease, so the revision does not change), under the lease, after its last
 * object write. From format 2 on it is also the release's manifest: the exact state it left (`objects`), numbered
 * per prefix, so `history` lists releases exactly and `rollback` restores one exactly. Records of format 1
 * (bucketops before 0.2) have no manifest: history infers their states from object versions.
 */
export interface ReleaseRecord {
    /** 2: with a manifest. Absent: format 1. */
    format?: 2;
    /** 1, 2, … per prefix, in the order the releases were written. */
    number?: number;
    /** Unique, for `rollback --to <id>`. */
    id?: string;
    time: string;
    command: "push" | "rollback" | "purge" | "promote";
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
    /** The release that was current when this one was written (what `rollback --to` undoes it with). */
    replaced?: { number?: number; revision: string };
    /** A rollback: the release (or inferred state) it restored. A promotion: the other prefix's release it copied. */
    source?: { url: string; number?: number; id?: string; revision: string };
    /** The exact state the release left under the prefix, bytewise by key; bucketops' own objects are not in it. */
    objects?: ManifestEntry[];
    /** How `objects` differs from the previous release's (number - 1): so that manifest follows from this one. */
    delta?: ManifestDelta;
    /** sha256 of `objects` (manifestDigest): a manifest rebuilt from deltas is used only if it has this digest. */
    digest?: string;
    /**
     * The records of the releases just before this one (at most LOG_RELEASES, oldest first), without their manifests
     * but with their deltas: `history` rebuilds their manifests from this one's and reads one record for every
     * LOG_RELEASES releases rather than each (a list of 1,000 releases in some dozen requests). The versions of
     * `<prefix>.bucketops-release` stay the record: a log that disagrees with them is not used.
     */
    log?: LoggedRelease[];
}

/** A manifest's change from the one before: the entries it adds or changes, and those of the one before it drops or replaces. */
export interface ManifestDelta {
    set: ManifestEntry[];
    dropped: ManifestEntry[];
}

/** A release in a later record's log: the record without its manifest (it has its delta) and log. */
export type LoggedRelease = Omit<ReleaseRecord, "objects" | "log">;

/** How many earlier releases a record logs, and the most bytes its log may take (large deltas make it shorter). */
export const LOG_RELEASES = 32;
const LOG_BYTES = 64 * 1024;

/** The digest of a manifest: sha256 over its entries as JSON lines, in its order (bytewise by key). */
export function manifestDigest(manifest: ManifestEntry[]): string {
    const hash = createHash("sha256");
    for (const entry of manifest) hash.update(`${JSON.stringify(entry)}\n`);
    return `sha256:${hash.digest("hex")}`;
}

/** The delta that turns manifest `before` into `after`. */
export function manifestDelta(before: ManifestEntry[], after: ManifestEntry[]): ManifestDelta {
    const same = (a: ManifestEntry, b: ManifestEntry | undefined) => b !== undefined && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
    const was = new Map(before.map((entry) => [entry[0], entry]));
    const now = new Map(after.map((entry) => [entry[0], entry]));
    return {
        set: after.filter((entry) => !same(entry, was.get(entry[0]))),
        dropped: before.filter((entry) => !same(entry, now.get(entry[0]))),
    };
}

/** The manifest before a delta, from the one after it (bytewise by key, as manifests are). */
export function undoDelta(after: ManifestEntry[], delta: ManifestDelta): ManifestEntry[] {
    const set = new Set(delta.set.map((entry) => entry[0]));
    const entries = [...after.filter((entry) => !set.has(entry[0])), ...delta.dropped];
    const order = new Map(sortBytewise(entries.map((entry) => entry[0])).map((key, i) => [key, i]));
    return entries.sort((a, b) => order.get(a[0])! - order.get(b[0])!);
}

/** The log a record carries: the previous record's log and that record, newest LOG_RELEASES, within LOG_BYTES. */
function nextLog(previous: ReleaseRecord | undefined): LoggedRelease[] | undefined {
    if (previous?.number === undefined || !previous.objects) return undefined;
    const { objects: _objects, log = [], ...logged } = previous;
    const entries = [...log, logged].slice(-LOG_RELEASES);
    let bytes = entries.reduce((sum, entry) => sum + JSON.stringify(entry).length, 0);
    while (entries.length > 0 && bytes > LOG_BYTES) bytes -= JSON.stringify(entries.shift()).length;
    return entries;
}

const GIT_TIMEOUT_MS = 5_000;

/** The git facts of the repository holding `dir`; undefined outside one, or without git. */
export async function gitInfo(dir: string): Promise<GitInfo | undefined> {
    if (!mayBeInGit(dir)) return undefined;
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
    command: ReleaseRecord["command"];
    revision: string;
    git?: GitInfo;
    message?: string;
    added: string[];
    modified: string[];
    removed: string[];
    /** The objects under the prefix after the last write (each written one with its version id). */
    objects: ObjectEntry[];
    /** The objects under the prefix before the first write (listed under the lease), and Flux's revision of them. */
    before: { objects: ObjectEntry[]; revision: string };
    source?: ReleaseRecord["source"];
}

/**
 * Writes the release record of a push, rollback or purge, under the lease, after its last write: numbered after the
 * record it supersedes, with the manifest of `facts.objects`. A version id the write did not return (an S3 object the
 * release kept) comes from the previous manifest where the object is the same, else from one listing of versions.
 */
export async function writeRelease(store: ObjectStore, prefix: string, facts: ReleaseFacts, previousBody?: Promise<Buffer | undefined>): Promise<ReleaseRecord> {
    const key = releaseKey(prefix);
    const previous = readRelease(await (previousBody ?? store.get(key)));
    const number = previous?.number ?? (previous ? (await store.listVersions(key)).filter((v) => v.key === key && !v.deleteMarker).length : 0);
    const objects = await manifest(store, prefix, facts.objects, previous);
    const log = nextLog(previous);
    const record: ReleaseRecord = {
        format: 2,
        number: number + 1,
        id: randomUUID(),
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
        // The previous release is what this one replaced only if nothing else changed the prefix since.
        replaced: { ...(previous?.number !== undefined && sameState(previous.objects, facts.before.objects) ? { number: previous.number } : {}), revision: facts.before.revision },
        ...(facts.source ? { source: facts.source } : {}),
        objects,
        digest: manifestDigest(objects),
        ...(log && previous?.objects ? { delta: manifestDelta(previous.objects, objects), log } : {}),
    };
    const body = Buffer.from(`${JSON.stringify(record)}\n`);
    await store.put(key, body, { md5: createHash("md5").update(body).digest(), contentType: "application/json" });
    return record;
}

/** Whether a manifest entry is this object (same ETag and size). */
function holds(old: ManifestEntry | undefined, entry: ObjectEntry): old is ManifestEntry {
    return old !== undefined && old[2] === entry.etag && old[3] === entry.size;
}

/** Whether a manifest is exactly these objects. */
function sameState(manifest: ManifestEntry[] | undefined, objects: ObjectEntry[]): boolean {
    if (!manifest || manifest.length !== objects.length) return false;
    const byKey = new Map(manifest.map((entry) => [entry[0], entry]));
    return objects.every((entry) => holds(byKey.get(entry.key), entry));
}

/** The manifest of `objects`: each with its version id (see writeRelease), bytewise by key as Flux sorts its index. */
async function manifest(store: ObjectStore, prefix: string, objects: ObjectEntry[], previous: ReleaseRecord | undefined): Promise<ManifestEntry[]> {
    const known = new Map((previous?.objects ?? []).map((entry) => [entry[0], entry]));
    let latest: Map<string, string> | undefined;
    if (objects.some((entry) => !entry.versionId && !holds(known.get(entry.key), entry))) {
        latest = new Map((await store.listVersions(prefix)).filter((v) => v.latest && !v.deleteMarker).map((v) => [v.key, v.versionId]));
    }
    const entries = objects.map((entry): ManifestEntry => {
        const old = known.get(entry.key);
        const versionId = entry.versionId ?? (holds(old, entry) ? old[1] : latest?.get(entry.key));
        if (!versionId) throw new Error(`no version id for ${entry.key}: it changed while the release was recorded`);
        return entry.md5 ? [entry.key, versionId, entry.etag, entry.size, entry.md5] : [entry.key, versionId, entry.etag, entry.size];
    });
    const order = new Map(sortBytewise(entries.map((entry) => entry[0])).map((key, i) => [key, i]));
    return entries.sort((a, b) => order.get(a[0])! - order.get(b[0])!);
}

/** A release record read back; undefined for content that is not one. */
export function readRelease(body: Buffer | string | undefined): ReleaseRecord | undefined {
    if (!body) return undefined;
    try {
        const record = JSON.parse(typeof body === "string" ? body : body.toString("utf8")) as ReleaseRecord;
        return typeof record.revision === "string" && typeof record.identity === "string" ? record : undefined;
    } catch {
        return undefined;
    }
}

/** One line for `history`: who, from which commit, and why. */
export function describeRelease(record: ReleaseRecord): string {
    const which = record.source && (record.source.number === undefined ? record.source.revision : `release ${record.source.number}`);
    const source = !record.source ? "" : record.command === "promote" ? ` of ${which} of ${record.source.url}` : ` from ${which}`;
    const commit = record.git ? `, commit ${record.git.commit.slice(0, 12)}${record.git.branch ? ` (${record.git.branch})` : ""}${record.git.dirty ? " with uncommitted changes" : ""}` : "";
    const author = record.git && record.git.author !== record.identity ? ` for ${record.git.author}` : "";
    return `${record.command}${source} by ${record.identity} (${record.user})${author}${commit}${record.message ? `: ${record.message}` : ""}`;
}

/**
 * Writes the release record; the writes are done by then, so a record that cannot be written is a warning.
 * `previousBody`: the record as it is now, already asked for (GET releaseKey) under the lease, so that it is read
 * while the objects are written: only a lease holder writes it.
 */
export async function recordRelease(
    store: ObjectStore,
    prefix: string,
    facts: ReleaseFacts,
    log: (line: string) => void,
    previousBody?: Promise<Buffer | undefined>,
): Promise<ReleaseRecord | undefined> {
    try {
        const record = await writeRelease(store, prefix, facts, previousBody);
        log(`release ${record.number}: ${describeRelease(record)}`);
        return record;
    } catch (error) {
        log(`warning: could not write the release record ${releaseKey(prefix)} (${(error as Error).message}); history will show this state as an external change`);
        return undefined;
    }
}
