import type { AtomicPublish } from "./publish.ts";
import { CliError, UsageError } from "./errors.ts";
import { guardedWrite, type Changes, type LeaseSettings } from "./guardedWrite.ts";
import { loadHistory, type State } from "./history.ts";
import type { Lease } from "./lease.ts";
import { fluxRevision, ignorePatterns } from "./revision.ts";
import { isBucketopsKey, normalizePrefix, SOURCEIGNORE } from "../bucket/keys.ts";
import type { ObjectEntry, ObjectStore, ObjectVersion } from "./store/types.ts";
import { formatBucketUrl } from "./url.ts";
import { SCHEME_TITLES } from "../bucket/providers.ts";

export interface RollbackOptions {
    dryRun: boolean;
    /** Allow a target in which Flux would see nothing under the prefix (rolling back deletes every object it reads there). */
    allowEmpty: boolean;
    /** Allow a target written by a push or rollback that stopped part-way. */
    allowIncomplete: boolean;
    /** Waiting for, and breaking, another writer's lease on the prefix. */
    lease: LeaseSettings | Lease;
    concurrency: number;
    specIgnore?: string;
    /** Suspends the cluster's Bucket around the writes (see push); unset: not atomic. */
    publication?: AtomicPublish;
    /** The release record's message (-m); default: which state it rolled back to. */
    message?: string;
    /** After the resume, under the lease: the wait for the apply. */
    afterResume?: (lease: Lease) => Promise<void>;
    log: (line: string) => void;
}

export interface RollbackResult {
    target: State;
    /** The revision after the rollback (undefined on a dry run or when nothing had to change). */
    revision?: string;
}

/**
 * Restores the prefix to a past state: old versions are copied back as new current versions and keys
 * absent then get delete markers, so the state rolled back from stays in the history (undoable).
 */
export async function rollback(store: ObjectStore, to: string, options: RollbackOptions): Promise<RollbackResult> {
    const states = await loadHistory(store, options.specIgnore, options.log);
    const target = resolveTarget(states, to);
    const current = states.at(-1)!;
    const prefix = normalizePrefix(store.url.prefix);
    if (target.indexed === 0 && !options.allowEmpty) {
        // What matters is what Flux would see: a root .sourceignore or ignored files leave it nothing to apply.
        const others = target.objects.size === 0 ? "" : ` (only ${target.objects.size} object(s) Flux does not read: the root ${SOURCEIGNORE} or ignored files)`;
        throw new UsageError(
            `the state of ${target.time.toISOString()} has nothing Flux would apply ${prefix === "" ? "at the bucket root" : `under '${prefix}'`}${others}: rolling back ` +
                `to it would delete every object Flux reads there, and Flux (prune: true) every workload it applied. ` +
                `Nothing was changed; pass --allow-empty if that is what you want`,
        );
    }
    if (target.purged) {
        throw new UsageError(
            `${describeState(target)} held ${target.purged.join(", ")}, whose version was purged since: it cannot be restored. ` +
                `Nothing was changed; pick a release written after the purge from 'bucketops history'`,
        );
    }
    if (target.incomplete && !options.allowIncomplete) {
        throw new UsageError(
            `the state of ${target.time.toISOString()} was written by a push or rollback that stopped part-way: it mixes ` +
                `two trees. Nothing was changed; pick a complete state from 'bucketops history', or pass --allow-incomplete`,
        );
    }
    options.log(`target: ${describeState(target)}`);
    if (options.dryRun) {
        const plan = planRollback(target, (await store.list(prefix)).filter((entry) => !isBucketopsKey(entry.key)));
        describeRollback(plan, options.log);
        if (copyChanges(store, plan)) options.log("dry run: nothing was changed");
        return { target };
    }
    let patterns: Promise<string[]> | undefined;
    const patternsOnce = () => (patterns ??= store.get(SOURCEIGNORE).then((body) => ignorePatterns(body, options.specIgnore)));
    const written = await guardedWrite<CopyPlan>(
        {
            command: "rollback",
            plan: (listing) => planRollback(target, listing),
            changes: (plan) => copyChanges(store, plan),
            describe: (plan) => describeRollback(plan, options.log),
            release: async (plan, objects, listing) => {
                const patterns = await patternsOnce();
                return {
                facts: {
                    command: "rollback",
                    revision: fluxRevision(objects, patterns),
                    message: options.message ?? `rollback to ${describeState(target)}`,
                    added: plan.copies.filter(({ key }) => !plan.listed.has(key)).map(({ key }) => key),
                    modified: plan.copies.filter(({ key }) => plan.listed.has(key)).map(({ key }) => key),
                    removed: plan.deletes.map((entry) => entry.key),
                    objects,
                    before: { objects: listing, revision: fluxRevision(listing, patterns) },
                    source: { url: formatBucketUrl(store.url), ...(target.number === undefined ? {} : { number: target.number }), revision: target.revision },
                },
                commit: target.release?.git?.commit,
                };
            },
        },
        { store, prefix, lease: options.lease, publication: options.publication, concurrency: options.concurrency, afterResume: options.afterResume, log: options.log },
    );
    if (!written.objects) return { target };
    const { plan, objects, record } = written;
    const restored = new Map(objects.map((entry) => [entry.key, entry]));
    const altered = plan.copies.filter(({ version, key }) => contentDiffers(restored.get(key), version));
    if (altered.length > 0) {
        throw new CliError(
            `restored ${altered.map((v) => v.key).join(", ")} but the content differs from version(s) of ` +
                `${target.time.toISOString()}; undo with --to ${current.number ?? current.revision}`,
        );
    }
    const revision = fluxRevision(objects, await patternsOnce());
    // The undo names what this rollback replaced: that release's number where it was one, else its revision.
    const undo = record?.replaced?.number ?? current.number ?? current.revision;
    if (revision === target.revision) {
        options.log(`rolled back: Flux revision ${revision}`);
    } else if (!store.copiesKeepEtag) {
        options.log(`rolled back: content of ${target.time.toISOString()} restored exactly (MD5 checked)`);
        options.log(`Flux revision ${revision}: a new one, because ${SCHEME_TITLES[store.url.scheme]} gives every copy a new etag`);
    } else {
        throw new CliError(
            `restored every object of ${target.time.toISOString()}, but Flux will report ${revision}, not ` +
                `${target.revision}: some copies got a new ETag (KMS-encrypted objects) or the ` +
                `root .sourceignore changed. The content is restored; undo with --to ${undo}`,
        );
    }
    options.log(`undo with: bucketops rollback ${formatBucketUrl(store.url)} --to ${undo}`);
    return { target, revision };
}

/**
 * What copying versions to keys does to a listing of a prefix: a rollback copies a past release's versions over their
 * own keys, a promotion another prefix's to the same paths under its own (src/cli/promote.ts).
 */
export interface CopyPlan {
    /** The listing's objects by key (bucketops' own keys left out). */
    listed: Map<string, ObjectEntry>;
    /** Versions copied server-side to `key` as its new current version. */
    copies: { version: ObjectVersion; key: string }[];
    /** Objects that already hold the wanted content. */
    keep: ObjectEntry[];
    /** Objects the wanted state does not have. */
    deletes: ObjectEntry[];
}

/** Pure: the plan that makes `listing` hold each version at its key. An object is kept when its etag or its MD5 and size match. */
export function planCopies(versions: { version: ObjectVersion; key: string }[], listing: ObjectEntry[]): CopyPlan {
    const listed = new Map(listing.map((entry) => [entry.key, entry]));
    const copies: CopyPlan["copies"] = [];
    const keep: ObjectEntry[] = [];
    const wanted = new Set<string>();
    for (const { version, key } of versions) {
        wanted.add(key);
        const now = listed.get(key);
        if (now && (now.etag === version.etag || sameContent(now, version))) keep.push(now);
        else copies.push({ version, key });
    }
    const deletes = [...listed.values()].filter((entry) => !wanted.has(entry.key));
    return { listed, copies, keep, deletes };
}

/** Pure: the plan that turns `listing` into `target`'s objects. */
export function planRollback(target: State, listing: ObjectEntry[]): CopyPlan {
    return planCopies([...target.objects.values()].map((version) => ({ version, key: version.key })), listing);
}

/** The writes of a copy plan (server-side copies, conditional on the object listed); undefined: nothing to do. */
export function copyChanges(store: ObjectStore, plan: CopyPlan): Changes | undefined {
    if (plan.copies.length === 0 && plan.deletes.length === 0) return undefined;
    return {
        keep: plan.keep,
        deletes: plan.deletes,
        writes: plan.copies.map(({ version, key }) => ({ key, run: () => store.restore(version, plan.listed.get(key) ?? null, key) })),
    };
}

function describeRollback(plan: CopyPlan, log: (line: string) => void): void {
    log(`plan: ${plan.copies.length} to restore, ${plan.deletes.length} to delete, ${plan.keep.length} unchanged`);
    for (const { version } of plan.copies) log(`  < ${version.key} (version ${version.versionId})`);
    for (const entry of plan.deletes) log(`  - ${entry.key}`);
    if (plan.copies.length === 0 && plan.deletes.length === 0) log("already in that state: nothing to do");
}

/** Same bytes, as far as both MD5s are known. */
function sameContent(entry: ObjectEntry | undefined, version: ObjectVersion): boolean {
    return entry !== undefined && entry.md5 !== undefined && entry.md5 === version.md5 && entry.size === version.size;
}

/** Provably different bytes (missing, other size, or other MD5 where both are known). */
export function contentDiffers(entry: ObjectEntry | undefined, version: ObjectVersion): boolean {
    if (!entry || entry.size !== version.size) return true;
    return entry.md5 !== undefined && version.md5 !== undefined && entry.md5 !== version.md5;
}

/** A state for messages: `release 12 of <time>, revision …` or `the external change of <time>, revision …`. */
export function describeState(state: State): string {
    const what = state.number !== undefined ? `release ${state.number} of` : state.external ? "the external change of" : "the state of";
    return `${what} ${state.time.toISOString()} (${state.revision})`;
}

const REVISION = /^(?:sha256:)?([0-9a-f]{7,64})$/;
const NUMBER = /^#?(\d{1,6})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The state `to` names: a release number (`12` or `#12`), a release id, a revision (a unique hex prefix of 7+ digits;
 * states with that revision but other content, e.g. other files Flux ignores, make it ambiguous) or a time (the
 * state current then). `flag` names the option in messages.
 */
export function resolveTarget(states: State[], to: string, flag = "--to"): State {
    if (states.length === 0) throw new CliError("the prefix has no history: no object version was ever written");
    const numbers = states.filter((state) => state.number !== undefined);
    const range = numbers.length > 0 ? `releases ${numbers[0].number} to ${numbers.at(-1)!.number}` : "no numbered release";
    const number = NUMBER.exec(to)?.[1];
    if (number !== undefined) {
        const match = states.findLast((state) => state.number === Number(number));
        if (!match) throw new UsageError(`${flag} ${to}: no release ${number} under this prefix (${range}); list them with 'bucketops history'`);
        return match;
    }
    if (UUID.test(to)) {
        const match = states.find((state) => state.release?.id === to);
        if (!match) throw new UsageError(`${flag} ${to}: no release has that id; list them with 'bucketops history --json'`);
        return match;
    }
    const hex = REVISION.exec(to)?.[1];
    if (hex) {
        const matches = states.filter((state) => state.revision.slice("sha256:".length).startsWith(hex));
        if (matches.length === 0) throw new UsageError(`${flag} ${to}: no past state has that revision; list them with 'bucketops history'`);
        if (new Set(matches.map((state) => state.revision)).size > 1) {
            throw new UsageError(`revision ${to} is ambiguous; give more hex digits`);
        }
        // The same revision with other content (files Flux ignores, the root .sourceignore): say which one.
        const contents = new Set(matches.map(contentOf));
        if (contents.size > 1) {
            throw new UsageError(
                `${flag} ${to}: ${matches.length} states have that revision with different objects (files Flux ignores differ): ` +
                    `${matches.map((state) => (state.number !== undefined ? `${state.number}` : state.time.toISOString())).join(", ")}. ` +
                    `Pick one with ${flag} <release number> (or a time for a state without one)`,
            );
        }
        return matches.at(-1)!;
    }
    const time = Date.parse(to);
    if (Number.isNaN(time)) {
        throw new UsageError(
            `${flag} '${to}' is neither a release number, a revision (sha256:<hex>, at least 7 hex digits) ` +
                `nor a time (ISO 8601, e.g. 2026-11-23T15:04:05Z)`,
        );
    }
    const match = states.filter((state) => state.time.getTime() <= time).at(-1);
    if (!match) {
        throw new UsageError(`no state at or before ${to}; the oldest is ${states[0].time.toISOString()}`);
    }
    return match;
}

/** Every object of a state with its ETag: what it holds, whether Flux reads it or not. */
function contentOf(state: State): string {
    return [...state.objects.values()].map((v) => `${v.key} ${v.etag}`).sort().join("\n");
}
