import { createHash, randomUUID } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { leaseKey } from "../bucket/keys.ts";
import { CliError, ConcurrentChangeError } from "./errors.ts";
import { AccessDeniedError } from "./store/errors.ts";
import type { ObjectEntry, ObjectStore } from "./store/types.ts";

/** How long a lease lasts unless renewed; the holder renews it every third of that. */
export const LEASE_TTL_MS = 60_000;

/** Races for the lease lost in a row before taking it gives up (each is another writer's write in between). */
const MAX_RACES = 10;

/**
 * What the lease object holds (JSON). `writing`: a push or rollback holds it and may have written part of its
 * changes; `interrupted`: it stopped after writing part of them and let go, so the next writer may take it at once.
 */
export interface LeaseRecord {
    /** Tells this lease from another one of the same process. */
    id: string;
    holder: string;
    host: string;
    /** The user that ran it (older records name it only in `holder`, as user@host). */
    user?: string;
    pid: number;
    /**
     * Where `pid` means something (Linux): the boot (/proc/sys/kernel/random/boot_id) and the pid namespace
     * (/proc/self/ns/pid). Containers that share a hostname have pid namespaces of their own, where `pid` is not ours to test.
     */
    pidSpace?: { boot: string; namespace: string };
    command: string;
    acquired: string;
    expires: string;
    state: "writing" | "interrupted";
}

export interface LeaseOptions {
    /** `push` or `rollback`, for the record and messages. */
    command: string;
    /** How long to wait for another writer's live lease (0: give up at once). */
    waitMs: number;
    /** Take over a stale lease: past its expiry, or held by a process of this host that is gone. */
    breakStale: boolean;
    /** Whether the store sends preconditions; without them the lease cannot exclude a writer that races us. */
    conditional: boolean;
    /** The command line that re-runs this one (for the message that asks for --break-lock). */
    rerun?: string;
    ttlMs?: number;
    /**
     * The caller listed the prefix just before and its listing held no lease: with conditional writes the lease is
     * created if-absent at once, the listing standing for the lease's own look.
     */
    listedAbsent?: boolean;
    log: (line: string) => void;
    /** Where warnings and what-to-do-next hints go (stderr); default: log. */
    warn?: (line: string) => void;
}

/** Exit 4, as for a concurrent change: another writer has the prefix. */
class LeaseHeldError extends ConcurrentChangeError {}

/**
 * The lease on a prefix: one object under it (LEASE_NAME, which Flux ignores) created only if absent (S3
 * `If-None-Match: *`, GCS `ifGenerationMatch=0`), renewed while writes run and deleted at the end. Every write is
 * under the prefix, so it needs no permission a writer for that prefix lacks. A writer that stops after writing
 * part of its changes leaves the record as `interrupted`, which history shows and the next writer takes over.
 */
export class Lease {
    readonly key: string;
    private readonly store: ObjectStore;
    private readonly options: LeaseOptions;
    private readonly ttlMs: number;
    private entry: ObjectEntry;
    private record: LeaseRecord;
    private readonly timer: NodeJS.Timeout;
    private lost?: CliError;
    private writesStarted = false;
    private writesSettled = false;
    private released = false;
    /** The renewal under way, if any: releasing waits for it, so the two never race for the object. */
    private renewal: Promise<void> = Promise.resolve();

    private constructor(store: ObjectStore, key: string, entry: ObjectEntry, record: LeaseRecord, options: LeaseOptions) {
        this.store = store;
        this.key = key;
        this.entry = entry;
        this.record = record;
        this.options = options;
        this.ttlMs = options.ttlMs ?? LEASE_TTL_MS;
        this.timer = setInterval(() => (this.renewal = this.renewal.then(() => this.renew())), this.ttlMs / 3);
        this.timer.unref();
        holding.add(record.id);
    }

    /** Takes the lease on `prefix` (a folder prefix), waiting up to `waitMs` for another writer to let go. */
    static async take(store: ObjectStore, prefix: string, options: LeaseOptions): Promise<Lease> {
        const key = leaseKey(prefix);
        const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
        const deadline = Date.now() + options.waitMs;
        if (!options.conditional) {
            options.log(`note: without conditional writes the lease ${key} cannot stop a writer that starts at the same moment`);
        }
        // A race (the lease changed between our read and our write) is retried at once, but not forever: a store whose
        // listing and reads disagree, or that refuses every precondition, must not make the command hang.
        let races = 0;
        const raced = () => {
            if (++races > MAX_RACES) {
                throw new ConcurrentChangeError(
                    `could not take the lease ${key} in ${store.description}: it changed under every one of ${MAX_RACES} attempts. Nothing was changed; re-run`,
                );
            }
        };
        // The caller's own listing of the prefix, just taken, showed no lease: it is created only if still absent,
        // without looking again (one request instead of a listing and the create). The store refuses it if a lease
        // appeared since, whatever its state: the loop below then reads it and decides as before.
        if (options.conditional && options.listedAbsent) {
            try {
                const lease = await Lease.createIfAbsent(store, key, options);
                if (lease) return lease;
            } catch (error) {
                throw error instanceof AccessDeniedError ? cannotTake(error, options) : error;
            }
        }
        for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
            const [current] = (await store.list(key)).filter((entry) => entry.key === key);
            const held = current ? readLeaseRecord(await store.get(key)) : undefined;
            if (current && held === undefined) {
                raced(); // deleted between the listing and the read
                continue;
            }
            const standing = held === undefined ? "free" : standingOf(held);
            if (standing === "live") {
                if (Date.now() >= deadline) throw heldBy(key, store, held as LeaseRecord, options);
                await sleep(Math.max(0, Math.min(pause, deadline - Date.now())));
                continue;
            }
            if (standing === "stale" && !options.breakStale) throw staleLease(key, store, held!, options);
            const record = newRecord(options.command, ttlMs);
            try {
                const entry = await store.put(key, encode(record), encodeOptions(record, current ?? null));
                if (held !== undefined) options.log(takenOver(key, held, options.command));
                return new Lease(store, key, entry, record, options);
            } catch (error) {
                if (error instanceof AccessDeniedError) throw cannotTake(error, options);
                if (!(error instanceof ConcurrentChangeError)) throw error;
                raced(); // another writer took it between our read and our write: look again
            }
        }
    }

    /**
     * The lease taken early, by one create-if-absent and nothing else (conditional writes only): undefined when a lease
     * object is there (whatever its state: `take` judges it) or these credentials may not write it (a reader). For a
     * push that lists and validates under the lease it holds; one that gets undefined goes the usual way.
     */
    static async tryCreate(store: ObjectStore, prefix: string, options: LeaseOptions): Promise<Lease | undefined> {
        if (!options.conditional) return undefined;
        try {
            return await Lease.createIfAbsent(store, leaseKey(prefix), options);
        } catch (error) {
            if (error instanceof AccessDeniedError) return undefined;
            throw error;
        }
    }

    /** Creates the lease object only if there is none (S3 `If-None-Match: *`, GCS `ifGenerationMatch=0`); undefined if there is one. */
    private static async createIfAbsent(store: ObjectStore, key: string, options: LeaseOptions): Promise<Lease | undefined> {
        const record = newRecord(options.command, options.ttlMs ?? LEASE_TTL_MS);
        try {
            const entry = await store.put(key, encode(record), encodeOptions(record, null));
            return new Lease(store, key, entry, record, options);
        } catch (error) {
            if (error instanceof ConcurrentChangeError) return undefined;
            throw error;
        }
    }

    /**
     * Whether a run that has nothing to write should still take the prefix's lease, to clear one its holder left: an
     * interrupted one, one this user's process on this host left (provably gone), or a stale one with --break-lock.
     * A live lease, or a stale one without --break-lock, is left to the run that writes.
     */
    static async left(store: ObjectStore, prefix: string, breakStale: boolean): Promise<boolean> {
        const key = leaseKey(prefix);
        const [current] = (await store.list(key)).filter((entry) => entry.key === key);
        if (!current) return false;
        const held = readLeaseRecord(await store.get(key).catch(() => undefined));
        if (held === undefined) return false;
        const standing = standingOf(held);
        return standing === "free" || standing === "ours" || (standing === "stale" && breakStale);
    }

    /** Throws when the lease was lost (another writer broke it): nothing more may be written or deleted. */
    check(): void {
        if (this.lost) throw this.lost;
    }

    /** Writes are about to start: until `settled`, a failure leaves the prefix half-written. */
    writing(): void {
        this.writesStarted = true;
    }

    /** Every write and delete succeeded. */
    settled(): void {
        this.writesSettled = true;
    }

    /**
     * Lets go: deletes the lease, or after writes that did not all succeed records it as `interrupted`. A failure to
     * let go is reported, not thrown: the run's own outcome stands, and the lease expires by itself.
     */
    async release(): Promise<void> {
        if (this.released) return;
        this.released = true;
        clearInterval(this.timer);
        await this.renewal;
        if (this.lost) {
            holding.delete(this.record.id);
            return;
        }
        try {
            if (this.writesStarted && !this.writesSettled) {
                const record: LeaseRecord = { ...this.record, state: "interrupted" };
                await this.store.put(this.key, encode(record), encodeOptions(record, this.entry));
            } else {
                await this.store.delete([this.key]);
            }
        } catch (error) {
            (this.options.warn ?? this.options.log)(
                `warning: could not release the lease ${this.key} (${(error as Error).message}): the next push or rollback by ` +
                    `${this.record.user} on this host takes it over at once; elsewhere, with --break-lock after ${this.record.expires}`,
            );
        } finally {
            // Only now: until the lease is gone, another command of this process must see it as live, not stale.
            holding.delete(this.record.id);
        }
    }

    private async renew(): Promise<void> {
        if (this.released || this.lost) return;
        const record: LeaseRecord = { ...this.record, expires: new Date(Date.now() + this.ttlMs).toISOString() };
        try {
            this.entry = await this.store.put(this.key, encode(record), encodeOptions(record, this.entry));
            this.record = record;
        } catch (error) {
            if (error instanceof ConcurrentChangeError || Date.parse(this.record.expires) <= Date.now()) {
                this.lost = new ConcurrentChangeError(
                    `lost the lease ${this.key} in ${this.store.description} while the ${this.options.command} ran ` +
                        `(${error instanceof ConcurrentChangeError ? "another writer took it over" : `it expired: ${(error as Error).message}`}); ` +
                        `stopped before deleting anything. Check 'bucketops history' and re-run`,
                );
            }
            // Otherwise the next renewal tries again before the lease expires.
        }
    }
}

type Held = LeaseRecord | "unreadable";

/**
 * `free`: its holder stopped part-way and let go (interrupted); `live`: a writer holds it; `ours`: this user's process
 * on this host held it and is provably gone (killed, or the endpoint went away so it could not let go), so re-running
 * takes it over; `stale`: its holder stopped without letting go (expired, or another user's process on this host is
 * gone), or bucketops cannot read it: --break-lock takes it over.
 */
function standingOf(held: Held): "free" | "live" | "ours" | "stale" {
    if (held === "unreadable") return "stale";
    if (held.state === "interrupted") return "free";
    const gone = held.host === os.hostname() && !holderRuns(held);
    if (gone && userOf(held) === os.userInfo().username) return "ours";
    if (Date.parse(held.expires) <= Date.now()) return "stale";
    return gone ? "stale" : "live";
}

/** The user a lease record names: its `user`, or the part of `holder` before the @ (records before `user` existed). */
function userOf(record: LeaseRecord): string | undefined {
    return record.user ?? /^([^@\s]+)@/.exec(record.holder)?.[1];
}

/** The leases this process holds now. */
const holding = new Set<string>();

/**
 * Whether a lease's holder on this host may still run: its process, and when that is this one, the lease is still
 * held. A process with the holder's pid that started after the lease was taken is another one (the pid was reused).
 */
function holderRuns(record: LeaseRecord): boolean {
    const here = PID_SPACE;
    if (record.pidSpace && here) {
        if (record.pidSpace.boot !== here.boot) return false; // the machine restarted since: every process of then is gone
        if (record.pidSpace.namespace !== here.namespace) return true; // another container's pid: cannot tell
    }
    if (record.pid === process.pid) return holding.has(record.id);
    try {
        process.kill(record.pid, 0);
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
    const started = processStart(record.pid);
    return started === undefined || started <= Date.parse(record.acquired) + 1000;
}

/**
 * When a process started (ms since the epoch), on Linux: its start time in clock ticks since boot (/proc/<pid>/stat,
 * field 22, proc(5)) plus the boot time (/proc/stat btime). Ticks are USER_HZ, 100 on every Linux ABI Node runs on.
 * Undefined elsewhere, or when it cannot be read.
 */
function processStart(pid: number): number | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after "pid (comm) ": field 3 onwards
        const ticks = Number(fields[22 - 3]);
        const boot = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
        return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : undefined;
    } catch {
        return undefined;
    }
}

/** This process's pid space (LeaseRecord.pidSpace), read once; undefined off Linux. */
const PID_SPACE = (() => {
    try {
        return { boot: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(), namespace: readlinkSync("/proc/self/ns/pid") };
    } catch {
        return undefined;
    }
})();

function newRecord(command: string, ttlMs: number): LeaseRecord {
    const now = Date.now();
    return {
        id: randomUUID(),
        holder: `${os.userInfo().username}@${os.hostname()} (pid ${process.pid})`,
        host: os.hostname(),
        user: os.userInfo().username,
        pid: process.pid,
        ...(PID_SPACE ? { pidSpace: PID_SPACE } : {}),
        command,
        acquired: new Date(now).toISOString(),
        expires: new Date(now + ttlMs).toISOString(),
        state: "writing",
    };
}

function encode(record: LeaseRecord): Buffer {
    return Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
}

function encodeOptions(record: LeaseRecord, expected: ObjectEntry | null) {
    return { md5: createHash("md5").update(encode(record)).digest(), contentType: "application/json", expected };
}

/** A lease object's record: undefined for no object, `unreadable` for one that holds no lease record. */
export function readLeaseRecord(body: Buffer | undefined): LeaseRecord | "unreadable" | undefined {
    if (body === undefined) return undefined;
    try {
        const record = JSON.parse(body.toString("utf8")) as LeaseRecord;
        return typeof record.holder === "string" && typeof record.expires === "string" ? record : "unreadable";
    } catch {
        return "unreadable";
    }
}

function describe(held: LeaseRecord): string {
    return `${held.holder}, ${held.command} since ${held.acquired}`;
}

function cannotTake(error: AccessDeniedError, options: LeaseOptions): AccessDeniedError {
    return new AccessDeniedError(`${error.message}\n${options.command} did not start: it could not take the prefix's lease, and nothing was changed.`);
}

function heldBy(key: string, store: ObjectStore, held: LeaseRecord, options: LeaseOptions): CliError {
    return new LeaseHeldError(
        `another writer holds the lease ${key} in ${store.description} (${describe(held)}, renewed until ${held.expires})` +
            `${options.waitMs > 0 ? ` and did not let go within ${options.waitMs / 1000} s` : ""}. Nothing was changed; ` +
            `re-run when it is done, or wait for it with --wait-lock <seconds>`,
    );
}

function staleLease(key: string, store: ObjectStore, held: Held, options: LeaseOptions): CliError {
    const why =
        held === "unreadable"
            ? "holds something bucketops cannot read as a lease"
            : `was left by ${describe(held)}, which stopped without letting go (${
                  Date.parse(held.expires) <= Date.now() ? `it expired at ${held.expires}` : `process ${held.pid} on this host is gone`
              })`;
    return new LeaseHeldError(
        `the lease ${key} in ${store.description} ${why}: the prefix may be half-written. Nothing was changed; ` +
            `see 'bucketops history', then re-run with --break-lock to take the lease over` +
            (options.rerun ? `: ${options.rerun} --break-lock` : ""),
    );
}

function takenOver(key: string, held: Held, command: string): string {
    if (held === "unreadable") return `note: broke the lease ${key}, which held something unreadable`;
    const what = held.state === "interrupted" ? "stopped part-way" : "stopped without letting go";
    return (
        `note: took over the lease ${key}: the ${held.command} by ${held.holder} (${held.acquired}) ${what}, ` +
        `leaving the prefix half-written; this ${command} writes the whole of its own state`
    );
}
