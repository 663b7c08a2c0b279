import { CliError } from "./errors.ts";
import { readLeaseRecord, type LeaseRecord } from "./lease.ts";
import { AccessDeniedError } from "./store/errors.ts";
import { digestIndex, fluxIndex, ignorePatterns } from "./revision.ts";
import { isBucketopsKey, leaseKey, normalizePrefix, releaseKey, SOURCEIGNORE } from "../bucket/keys.ts";
import { mapBounded } from "../fs/bounded.ts";
import { ReleaseCache } from "./releaseCache.ts";
import { describeRelease, LOG_RELEASES, manifestDigest, readRelease, undoDelta, type ManifestDelta, type ManifestEntry, type ReleaseRecord } from "./provenance.ts";
import type { ObjectStore, ObjectVersion } from "./store/types.ts";

/** The prefix as it was at one instant: every key's version then, and what Flux would have reported. */
export interface State {
    time: Date;
    revision: string;
    /** Key → the version current at `time` (keys absent then are not in the map). */
    objects: Map<string, ObjectVersion>;
    /** How many of `objects` Flux would fetch (its index: no root `.sourceignore`, nothing ignored); 0 is the revision of nothing. */
    indexed: number;
    added: string[];
    modified: string[];
    removed: string[];
    /** Written by a push or rollback that had not finished (its lease was held then): part old tree, part new. */
    incomplete: boolean;
    /** The last state, incomplete because a writer holds the lease right now (not one that stopped). */
    writing?: boolean;
    /**
     * `release`: exactly the manifest a release record holds. `inferred`: reconstructed from object versions, for a
     * prefix written before release manifests (bucketops before 0.2), or a change no release accounts for (`external`).
     */
    source: "release" | "inferred";
    /** A change between releases that no release accounts for: another tool wrote (or a writer stopped before its record). */
    external: boolean;
    /** The release's number per prefix (inferred states paired with an old release record get that record's place). */
    number?: number;
    /** The release record its writer left (src/cli/provenance.ts); none for states other tools wrote. */
    release?: ReleaseRecord;
    /**
     * Keys of a release's manifest whose version a purge deleted since (src/cli/purge.ts): the release can no longer be
     * restored exactly.
     */
    purged?: string[];
}

/**
 * Writes at most this far apart form one change: a push writes its objects in a burst, which on a
 * 1 s clock (AWS, moto) may straddle a second boundary.
 */
export const BURST_GAP_MS = 1000;

/**
 * The past states of a prefix: each release with a manifest exactly as it recorded it (src/cli/provenance.ts), and
 * between them what no release accounts for, inferred from the object versions as follows (all of a prefix written
 * before release manifests is inferred so). Every instant at which a version
 * or delete marker appeared (the listing's LastModified: 1 s on AWS and moto, 1 ms on GCS and MinIO)
 * ends a state, except that instants at most BURST_GAP_MS apart are one change, and so are the instants of one
 * writer's lease (see LeaseTimeline), so a push is one state rather than one per object, however slowly it writes.
 * The root `.sourceignore` is taken as it was at each state.
 * History starts at the prefix's first write of something Flux reads: instants before it (the root `.sourceignore`
 * written by the infra stack, another environment's keys, files Flux ignores) are not states of the prefix, and a
 * rollback to one would empty it.
 * A state that ends while the prefix's lease is held is incomplete, unless the lease is released later with no
 * further change (the writer finished after a pause); the lease itself is not part of any state. An inferred state
 * with the same versions and revision as a release is that release, and is left out.
 * Oldest first; the last state is the current one.
 */
export async function loadHistory(
    store: ObjectStore,
    specIgnore?: string,
    note: (line: string) => void = () => undefined,
): Promise<State[]> {
    await requireVersioning(store, "history");
    const prefix = normalizePrefix(store.url.prefix);
    // The root .sourceignore is listed with the prefix's own versions when the prefix is the root.
    const rootListing = prefix === "" ? undefined : store.listVersions(SOURCEIGNORE);
    rootListing?.catch(() => undefined); // awaited below; a rejection must not go unhandled meanwhile
    const listed = await store.listVersions(prefix);
    const versions = listed.filter((v) => !isBucketopsKey(v.key));
    const lease = leaseKey(prefix);
    const leases = new LeaseTimeline(store, lease, listed.filter((v) => v.key === lease));
    const [rootIgnore, records] = await Promise.all([
        rootIgnoreHistory(store, rootListing ?? Promise.resolve(versions), note),
        readRecords(store, listed.filter((v) => v.key === releaseKey(prefix) && !v.deleteMarker)),
    ]);
    const revisionOf = (objects: Map<string, ObjectVersion>, time: Date) => {
        const index = fluxIndex(objects.values(), ignorePatterns(rootIgnore.at(time), specIgnore));
        return { revision: digestIndex(index), indexed: index.size };
    };

    // The releases with a manifest are exact. The states inferred from the versions (as before manifests) are kept
    // where no release holds them (same versions, same revision): a prefix written before manifests, a change by
    // another tool, a writer that stopped before its record.
    const manifests = records.filter((r): r is Required<typeof r> & { record: { objects: ManifestEntry[] } } => r.record?.objects !== undefined);
    // A version a purge deleted is gone from the listing: the releases that held it are marked.
    const present = new Set(versions.filter((v) => !v.deleteMarker).map((v) => `${v.key}\0${v.versionId}`));
    const exact: State[] = manifests.map(({ version, record }) => {
        const objects = new Map(record.objects.map(([key, versionId, etag, size, md5]): [string, ObjectVersion] => [
            key,
            { key, versionId, etag, size, md5, lastModified: version.lastModified, deleteMarker: false, latest: false },
        ]));
        const purged = record.objects.filter(([key, versionId]) => !present.has(`${key}\0${versionId}`)).map(([key]) => key);
        return {
            ...(purged.length > 0 ? { purged } : {}),
            time: version.lastModified, ...revisionOf(objects, version.lastModified), objects,
            added: record.added, modified: record.modified, removed: record.removed,
            incomplete: false, source: "release", external: false, number: record.number, release: record,
        };
    });
    const held = new Set(exact.map((state) => `${state.revision}\n${signature(state.objects)}`));
    const timeline = new Timeline(versions);
    const inferred: State[] = [];
    const instants = new Timeline([...listed, ...rootIgnore.versions]).instants();
    for (const time of await endsOfChanges(instants, (time, next) => leases.oneWriter(time, next))) {
        const objects = timeline.at(time);
        const { revision, indexed } = revisionOf(objects, time);
        // Before the prefix's first write Flux would see nothing: the infra stack's root .sourceignore, or files it
        // ignores, are no state of the prefix, and a rollback to one would empty it.
        if (inferred.length === 0 && indexed === 0) continue;
        const incomplete = leases.heldAt(time);
        const last = inferred.at(-1);
        if (last && last.revision === revision && sameVersions(last.objects, objects)) {
            // Only the lease changed: taken (nothing written yet), or released after a pause with no further write.
            if (!incomplete) last.incomplete = false;
            continue;
        }
        const external = exact.length > 0 && exact[0].time < time;
        inferred.push({ time, revision, indexed, objects, ...changesBetween(last?.objects ?? new Map(), objects), incomplete, source: "inferred", external });
    }
    const unheld = inferred.filter((state) => !held.has(`${state.revision}\n${signature(state.objects)}`));
    attachReleases(unheld.filter((state) => !state.external), records.filter((r) => r.record && !r.record.objects));

    const states = [...unheld, ...exact].sort((a, b) => a.time.getTime() - b.time.getTime() || Number(a.source === "inferred") - Number(b.source === "inferred"));
    const current = states.at(-1);
    if (current?.incomplete) current.writing = await leases.liveWriter(new Date());
    return states;
}

/**
 * The release records, oldest first, each numbered by its place where it carries no number (format 1). Versions this
 * machine read before come from the ReleaseCache. From the newest, a record whose log holds the releases before it
 * (provenance.ts: their records and manifest deltas) stands for them, its manifest undone delta by delta, so one
 * record is read for every LOG_RELEASES releases; the record read where a log ends must hold the manifest rebuilt for
 * it, or no log is trusted. Records without a log (written before logs, or that another writer's failure broke) are
 * read 16 at a time.
 */
async function readRecords(store: ObjectStore, recordVersions: ObjectVersion[]): Promise<{ version: ObjectVersion; record?: ReleaseRecord }[]> {
    // Oldest first. Versions written within one second (S3 keeps LastModified to the second) keep the order the listing
    // gives a key's versions, newest first, which is exact.
    const place = new Map(recordVersions.map((version, i) => [version, i]));
    const ordered = [...recordVersions].sort((a, b) => newestFirst(b, a) || place.get(b)! - place.get(a)!);
    const cache = ordered.length > 0 ? new ReleaseCache(store, ordered[0].key) : undefined;
    const cached = (await cache?.load()) ?? new Map<string, string>();
    // Each version's body is read once, when followLogs reads ahead or when it is needed, whichever comes first.
    const bodies = new Map<string, Promise<string | undefined>>();
    const body = (version: ObjectVersion) => {
        let reading = bodies.get(version.versionId);
        if (!reading) {
            reading = store.get(version.key, version.versionId).then((buffer) => buffer?.toString("utf8"), () => undefined);
            bodies.set(version.versionId, reading);
        }
        return reading;
    };
    const fresh = new Map<string, string>();
    const read = async (version: ObjectVersion): Promise<ReleaseRecord | undefined> => {
        const known = cached.get(version.versionId);
        if (known !== undefined) return readRelease(known);
        const text = await body(version);
        const record = readRelease(text);
        if (record) fresh.set(version.versionId, text!);
        return record;
    };
    const ahead = (version: ObjectVersion) => {
        if (!cached.has(version.versionId)) void body(version);
    };
    const records: (ReleaseRecord | undefined)[] = new Array(ordered.length);
    const settled = new Array<boolean>(ordered.length).fill(false);
    if (!(await followLogs(ordered, records, settled, read, ahead))) settled.fill(false);
    const rest = ordered.flatMap((version, i) => (settled[i] ? [] : [{ version, i }]));
    await mapBounded(rest, async ({ version, i }) => {
        records[i] = await read(version);
        settled[i] = true;
    }, 16);
    await cache?.remember([...fresh].map(([versionId, text]) => ({ versionId, body: text })));
    const result = ordered.map((version, i) => ({ version, record: records[i] }));
    for (const [i, { record }] of result.entries()) if (record && record.number === undefined) record.number = i + 1;
    return result;
}

/** How many records followLogs asks for beyond the one it reads: those its logs will most likely need next. */
const READ_AHEAD = 8;

/**
 * Fills `records` from the newest version down, reading a record where no later log holds it and rebuilding the
 * others from logs. The i-th version (oldest first) must be release i + 1, as numbering makes it when no version is
 * missing: where that or a rebuilt manifest does not hold, returns false (then every record is read).
 * Each record's log says where the next read is, but waiting for it would put one round trip after another (31 for
 * 1,000 releases): while it reads one, it asks `ahead` for the next READ_AHEAD along the stride the logs so far
 * had (a full log's, LOG_RELEASES + 1, at first). Where logs are full none is wasted; where a log is shorter (a big
 * manifest's deltas fill LOG_BYTES) at most READ_AHEAD are.
 */
async function followLogs(
    ordered: ObjectVersion[],
    records: (ReleaseRecord | undefined)[],
    settled: boolean[],
    read: (version: ObjectVersion) => Promise<ReleaseRecord | undefined>,
    ahead: (version: ObjectVersion) => void,
): Promise<boolean> {
    let expected: ManifestEntry[] | undefined; // the manifest rebuilt for the version read next
    let stride = LOG_RELEASES + 1;
    for (let i = ordered.length - 1; i >= 0; ) {
        for (let next = i - stride, n = 0; next >= 0 && n < READ_AHEAD; next -= stride, n++) ahead(ordered[next]);
        const record = await read(ordered[i]);
        records[i] = record;
        settled[i] = true;
        if (expected && (!record?.objects || manifestDigest(record.objects) !== manifestDigest(expected))) return false;
        expected = undefined;
        if (!record?.objects || !record.log || !record.delta || record.number !== i + 1) {
            // No log to follow from here: the older records are read one by one (16 at a time).
            return true;
        }
        const logged = new Map(record.log.map((entry) => [entry.number, entry]));
        let manifest = record.objects;
        let delta: ManifestDelta | undefined = record.delta;
        let k = i;
        for (; k > 0 && delta; k--) {
            const entry = logged.get(k); // release k is the version at k - 1
            if (!entry) break;
            manifest = undoDelta(manifest, delta);
            // Each rebuilt manifest must be the one its record describes (its digest), or no log is trusted.
            if (entry.digest !== manifestDigest(manifest)) return false;
            records[k - 1] = { ...entry, objects: manifest };
            settled[k - 1] = true;
            delta = entry.delta;
        }
        if (k > 0 && delta) expected = undoDelta(manifest, delta);
        stride = i - (k - 1);
        i = k - 1;
    }
    return true;
}


/** A state's exact versions, as one string. */
function signature(objects: Map<string, ObjectVersion>): string {
    return [...objects.values()].map((v) => `${v.key} ${v.versionId}`).sort().join("\n");
}

function changesBetween(before: Map<string, ObjectVersion>, after: Map<string, ObjectVersion>): Pick<State, "added" | "modified" | "removed"> {
    const changes = { added: [] as string[], modified: [] as string[], removed: [] as string[] };
    for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const was = before.get(key);
        const now = after.get(key);
        if (!was) changes.added.push(key);
        else if (!now) changes.removed.push(key);
        else if (was.versionId !== now.versionId) changes.modified.push(key);
    }
    return changes;
}

/** Pairs each inferred state with the newest old-format release record written after the state before it and by its end. */
function attachReleases(states: State[], records: { version: ObjectVersion; record?: ReleaseRecord }[]): void {
    for (const [i, state] of states.entries()) {
        const after = i === 0 ? -Infinity : states[i - 1].time.getTime();
        const mine = records.filter(({ version }) => version.lastModified.getTime() > after && version.lastModified.getTime() <= state.time.getTime());
        const newest = mine.sort((a, b) => newestFirst(a.version, b.version))[0]?.record;
        if (newest) {
            state.release = newest;
            state.number = newest.number;
        }
    }
}

/**
 * The root `.sourceignore` (Flux reads it whatever the prefix) through time: its versions and its content
 * at an instant. A per-environment identity may read its current content but not list or read its versions:
 * then every state is computed with the current content (no versions), and `note` says so.
 */
async function rootIgnoreHistory(
    store: ObjectStore,
    listing: Promise<ObjectVersion[]>,
    note: (line: string) => void,
): Promise<{ versions: ObjectVersion[]; at: (time: Date) => Buffer | undefined }> {
    try {
        const versions = (await listing).filter((v) => v.key === SOURCEIGNORE);
        const contents = new Map<string, Buffer | undefined>();
        for (const version of versions.filter((v) => !v.deleteMarker)) {
            contents.set(version.versionId, await store.get(SOURCEIGNORE, version.versionId));
        }
        const timeline = new Timeline(versions);
        return { versions, at: (time) => contents.get(timeline.at(time).get(SOURCEIGNORE)?.versionId ?? "") };
    } catch (error) {
        if (!(error instanceof AccessDeniedError)) throw error;
        note(
            `note: these credentials may not read past versions of the root ${SOURCEIGNORE} (a GCS environment ` +
                `identity reads only its current content): every state's revision uses the current one`,
        );
        const current = await store.get(SOURCEIGNORE);
        return { versions: [], at: () => current };
    }
}

/** The states for people (newest last, changed keys below each) or as JSON. */
export function historyReport(states: State[], json: boolean): string[] {
    // The release's manifest is left out: `objects` counts it (a 20,000-key prefix would repeat it for every release).
    if (json) {
        return [JSON.stringify(states.map(({ objects, release, ...state }) => ({ ...state, objects: objects.size, ...(release ? { release: { ...release, objects: undefined, delta: undefined, log: undefined } } : {}) })), null, 2)];
    }
    if (states.length === 0) return ["no history: no object version was ever written under this prefix"];
    return states.flatMap((state, i) => [
        `${label(state)}  ${state.time.toISOString()}  ${state.revision}  ${state.objects.size} object(s)${i === states.length - 1 ? "  (current)" : ""}` +
            (state.writing ? "  (being written: a push or rollback holds the lease)" : state.incomplete ? "  (incomplete: a push or rollback stopped part-way)" : ""),
        ...(state.release ? [`    ${describeRelease(state.release)}`] : state.external ? ["    external change: written by another tool, or by a writer that stopped before its release record"] : []),
        ...state.added.map((key) => `    + ${key}`),
        ...state.modified.map((key) => `    ~ ${key}`),
        ...state.removed.map((key) => (state.release?.command === "purge" ? `    x ${key} (every version deleted)` : `    - ${key}`)),
        ...(state.purged ? [`    purged since: ${state.purged.join(", ")} (this release can no longer be restored exactly)`] : []),
    ]);
}

/** `#12` for a release, `external` or `inferred` for what no release manifest holds. */
function label(state: State): string {
    if (state.number !== undefined) return `#${state.number}`;
    return state.external ? "external" : "inferred";
}

function sameVersions(a: Map<string, ObjectVersion>, b: Map<string, ObjectVersion>): boolean {
    return a.size === b.size && [...a].every(([key, version]) => b.get(key)?.versionId === version.versionId);
}

/**
 * The instants that end a state: each but the last is followed by one that continues its change (`continues`) or
 * more than BURST_GAP_MS later.
 */
async function endsOfChanges(instants: Date[], continues: (time: Date, next: Date) => Promise<boolean>): Promise<Date[]> {
    const ends: Date[] = [];
    for (const [i, time] of instants.entries()) {
        const next = instants[i + 1];
        if (next === undefined || (next.getTime() - time.getTime() > BURST_GAP_MS && !(await continues(time, next)))) ends.push(time);
    }
    return ends;
}

/**
 * The prefix's lease through time, answering whether one writer held it from one instant to the next: a push or
 * rollback that pauses between writes (a slow link, big files, a loaded machine) is still one change. Its versions
 * are one writer's while their records carry the same id and say `writing` (renewals); a takeover, an `interrupted`
 * record or a release before the next instant (rather than at it) ends the change. Records are read only for such pauses.
 */
class LeaseTimeline {
    private readonly timeline: Timeline;
    private readonly records = new Map<string, Promise<LeaseRecord | undefined>>();
    private readonly store: ObjectStore;
    private readonly key: string;
    private readonly versions: ObjectVersion[];

    constructor(store: ObjectStore, key: string, versions: ObjectVersion[]) {
        this.store = store;
        this.key = key;
        this.versions = versions;
        // Taken and released in one clock tick (1 s on S3) is the usual order for a lease, not the other way round.
        this.timeline = new Timeline(versions, "marker");
    }

    heldAt(time: Date): boolean {
        return this.timeline.at(time).has(this.key);
    }

    async oneWriter(time: Date, next: Date): Promise<boolean> {
        const held = this.timeline.at(time).get(this.key);
        const holder = held && (await this.writing(held));
        if (!holder) return false;
        // What happened to the lease after `time` up to `next`, oldest first; a release is last in its tick.
        const events = this.versions
            .filter((v) => v.lastModified > time && v.lastModified <= next)
            .sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime() || Number(a.deleteMarker) - Number(b.deleteMarker));
        for (const [i, event] of events.entries()) {
            const released = event.deleteMarker && i === events.length - 1 && event.lastModified.getTime() === next.getTime();
            if (event.deleteMarker ? !released : (await this.writing(event))?.id !== holder.id) return false;
        }
        return true;
    }

    /** Whether a writer holds the lease at `now`: its newest version says `writing` and has not expired. */
    async liveWriter(now: Date): Promise<boolean> {
        const held = this.timeline.at(now).get(this.key);
        const record = held && (await this.writing(held));
        return record !== undefined && Date.parse(record.expires) > now.getTime();
    }

    /** The record of a version that says `writing`; undefined for any other, or one these credentials may not read. */
    private writing(version: ObjectVersion): Promise<LeaseRecord | undefined> {
        let record = this.records.get(version.versionId);
        if (!record) {
            record = this.store.get(this.key, version.versionId).then(
                (body) => {
                    const read = readLeaseRecord(body);
                    return typeof read === "object" && read.state === "writing" ? read : undefined;
                },
                (error: unknown) => {
                    if (error instanceof AccessDeniedError) return undefined;
                    throw error;
                },
            );
            this.records.set(version.versionId, record);
        }
        return record;
    }
}

export async function requireVersioning(store: ObjectStore, command: string): Promise<void> {
    if (!(await store.versioningEnabled())) {
        throw new CliError(
            `versioning is not enabled on ${store.description}; ${command} needs a versioned bucket ` +
                `(the infra stack enables it; for an existing bucket turn object versioning on first)`,
        );
    }
}

/**
 * Versions grouped by key, each key's newest first, answering "which version was current at t?". Versions of a key
 * with equal times are ordered by the store's sequence where it has one (GCS), else the key's latest version is
 * newest, else `tie` says which is newer: a version (a key deleted then written again, as a rollback restores it)
 * or a delete marker (written then deleted, as a lease is taken and released).
 */
class Timeline {
    private readonly byKey = new Map<string, ObjectVersion[]>();

    private readonly versions: ObjectVersion[];

    constructor(versions: ObjectVersion[], tie: "version" | "marker" = "version") {
        this.versions = versions;
        for (const version of versions) {
            const list = this.byKey.get(version.key) ?? [];
            list.push(version);
            this.byKey.set(version.key, list);
        }
        const markerFirst = tie === "marker" ? -1 : 1;
        for (const list of this.byKey.values()) list.sort((a, b) => newestFirst(a, b) || markerFirst * (Number(a.deleteMarker) - Number(b.deleteMarker)));
    }

    instants(): Date[] {
        const times = new Set(this.versions.map((v) => v.lastModified.getTime()));
        return [...times].sort((a, b) => a - b).map((t) => new Date(t));
    }

    /** The live (non-deleted) version of every key at `time`. */
    at(time: Date): Map<string, ObjectVersion> {
        const live = new Map<string, ObjectVersion>();
        for (const [key, list] of this.byKey) {
            const current = list.find((v) => v.lastModified.getTime() <= time.getTime());
            if (current && !current.deleteMarker) live.set(key, current);
        }
        return live;
    }
}

/** Newest first; at equal times by the store's sequence, then the key's latest version first (0: still tied). */
function newestFirst(a: ObjectVersion, b: ObjectVersion): number {
    return (
        b.lastModified.getTime() - a.lastModified.getTime() ||
        (a.sequence !== undefined && b.sequence !== undefined ? b.sequence - a.sequence : 0) ||
        Number(b.latest) - Number(a.latest)
    );
}
