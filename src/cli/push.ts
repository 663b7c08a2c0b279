import { readFile } from "node:fs/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import { CliError, InterruptedError, UsageError } from "./errors.ts";
import type { Changes, GuardedWriteResult, LeaseSettings } from "./guardedWrite.ts";
import { Interrupts } from "./interrupts.ts";
import { Lease } from "./lease.ts";
import type { AtomicPublish } from "./publish.ts";
import { planPush, type PushPlan } from "./plan.ts";
import { fluxRevisions, ignorePatterns, type FluxRevisions } from "./revision.ts";
import { BUCKETOPS_NAMES, isBucketopsKey, leaseKey, normalizePrefix, SOURCEIGNORE } from "../bucket/keys.ts";
import type { GitInfo, ReleaseFacts } from "./provenance.ts";
import { AccessDeniedError } from "./store/errors.ts";
import type { ObjectEntry, ObjectStore } from "./store/types.ts";
import { contentType, describeTree, readTree, type LocalFile, type LocalTree } from "./tree.ts";
import { contentIsNew, preloadValidation, validateManifests } from "./validate.ts";
import type { ValidationCache } from "./validationCache.ts";
import type { ValidationChecks } from "./validate.ts";

export interface PushOptions {
    prune: boolean;
    dryRun: boolean;
    /** Push to a bucket without versioning, where deletes and overwrites are permanent. */
    allowUnversioned: boolean;
    /** Skip the kustomize builds of validation (files, schemas and Flux paths are still checked). */
    skipBuild?: boolean;
    /** Trees that passed validation before; unset: validate every time. */
    validationCache?: ValidationCache;
    /** --root-path, --strict, --schema-location, --allow-remote-bases. */
    validation?: ValidationChecks;
    concurrency: number;
    /** Waiting for, and breaking, another writer's lease on the prefix. */
    lease: LeaseSettings;
    /** Flux's spec.ignore of the Bucket, for the revision printed at the end. */
    specIgnore?: string;
    /** Suspends the cluster's Bucket around the writes; unset: the publish is not atomic, and the push says so. */
    publication?: AtomicPublish;
    /** Why, for the release record (-m); default: the subject of the tree's git commit, if it is in a repository. */
    message?: string;
    /** After the resume, under the lease: the wait for the apply. `before`: the prefix's revision before the push (unset: it was empty). */
    afterResume?: (lease: Lease, before: string | undefined) => Promise<void>;
    /** Ship what Git ignores too (--include-ignored); by default a tree in a Git work tree ships what Git would commit. */
    includeIgnored?: boolean;
    /** The tree, already being read (readTree with includeIgnored); default: push reads it. */
    reading?: Promise<LocalTree>;
    /** Ship Secrets that are not SOPS-encrypted and files matching credential patterns (--allow-plain-secrets). */
    allowPlainSecrets?: boolean;
    log: (line: string) => void;
}

export interface PushResult {
    plan: PushPlan;
    /** The revision Flux will report; undefined on a dry run. */
    revision?: string;
    /** The revision of the prefix before this push changed it (what --rollback-on-failure restores); unset when it was empty. */
    before?: string;
}

export async function push(dir: string, store: ObjectStore, options: PushOptions): Promise<PushResult> {
    const prefix = normalizePrefix(store.url.prefix);
    // The bucket's root .sourceignore, which Flux reads whatever the prefix: under a prefix it is asked for while the
    // tree is read (it needs nothing from the tree). At the bucket root the listing of the prefix shows whether there
    // is one, and a tree's own replaces it: see rootIgnore.
    const asked = prefix === "" ? undefined : store.get(SOURCEIGNORE);
    asked?.catch(() => undefined); // awaited below, after the listing went out
    const tree = await (options.reading ?? readTree(dir, { includeIgnored: options.includeIgnored }));
    const files = tree.files;
    for (const line of describeTree(dir, tree)) options.log(line);
    if (files.length === 0 && tree.ignored.length > 0) {
        throw new UsageError(`Git ignores every file of '${dir}': nothing to ship. A generated tree? Pass --include-ignored to ship it`);
    }
    if (files.length === 0) {
        throw new UsageError(`'${dir}' has no files: pushing it would delete every object under the prefix`);
    }
    const reserved = files.find((file) => isBucketopsKey(file.relative));
    if (reserved) {
        throw new UsageError(
            `'${reserved.relative}' in ${dir}: the names ${BUCKETOPS_NAMES.join(" and ")} are bucketops' lease and release records, which Flux ignores; rename it`,
        );
    }
    const fresh = contentIsNew(files, prefix, options.validationCache);
    // Content new to this machine was most likely edited to be pushed: the push takes the lease at once (one
    // create-if-absent) and lists the prefix once, under it, while the tree is validated; it lets go when the tree is
    // refused or changes nothing. Otherwise (content that passed here before, or a lease already there, or credentials
    // that may not write it) it lists without the lease and takes it only to write: see pushListed.
    const early = fresh && !options.dryRun ? await Lease.tryCreate(store, prefix, { ...options.lease, command: "push", log: options.log }) : undefined;
    if (!early) return pushListed(dir, store, prefix, tree, asked, fresh, options);
    return Interrupts.whileWriting(async () => {
        try {
            return await pushListed(dir, store, prefix, tree, asked, fresh, options, early);
        } finally {
            await early.release();
        }
    });
}

/**
 * The rest of a push, from the listing of the prefix: under `early`, the lease the push holds already, or without a
 * lease. A push that changes nothing writes nothing but that early lease (a reader may run it). One that does and holds
 * no lease takes it, then plans again from a listing under it: another writer may have finished in between.
 */
async function pushListed(
    dir: string,
    store: ObjectStore,
    prefix: string,
    tree: LocalTree,
    askedIgnore: Promise<Buffer | undefined> | undefined,
    fresh: boolean | undefined,
    options: PushOptions,
    early?: Lease,
): Promise<PushResult> {
    const files = tree.files;
    // The listing's pages start from the keys the tree has (S3Store.list).
    const listRequest = store.list(prefix, files.map((file) => prefix + file.relative));
    listRequest.catch(() => undefined); // awaited below, after validation
    // Two turns of the event loop let its requests be sent (signed, then written once their sockets connect) before
    // what follows holds the thread: loading the validator, the cache keys and ignore matches over every file (on
    // 2,000 files the pages went out 80 ms after they were asked for, 10 ms with these turns).
    for (let turn = 0; turn < 2; turn++) await nextTurn();
    preloadValidation(fresh, options);
    const planFor = (listing: ObjectEntry[]) =>
        keepRootSourceignore(planPush(files, listing.filter((entry) => !isBucketopsKey(entry.key)), prefix, options.prune), prefix);
    // Whether the bucket keeps versions matters only to a push that will write: asked as soon as the listing shows it
    // will, while the tree is validated. An identity that may not read the setting (a reader) finds out at its first
    // write instead.
    const planned = listRequest.then(planFor);
    // A lease in the listing is another writer's, or one left behind: not the early one this push holds.
    const leaseListed = (listing: ObjectEntry[]) => !early && listing.some((entry) => entry.key === leaseKey(prefix));
    // What decides below whether the push writes (a lease found may be cleared, or be another writer's: asked anyway).
    const writes = (listing: ObjectEntry[], plan: PushPlan) => !options.dryRun && (changes(plan) || options.publication?.leftSuspended === true || leaseListed(listing));
    const willWrite = Promise.all([listRequest, planned]).then(([listing, plan]) => writes(listing, plan));
    const versioningRequest = willWrite.then((will) =>
        will ? store.versioningEnabled().catch((error: unknown) => (error instanceof AccessDeniedError ? undefined : Promise.reject(error))) : undefined,
    );
    versioningRequest.catch(() => undefined);
    // What only a push that writes runs (the guarded write, the publish, the release record) loads once the listing
    // shows it will write, after that request went out, while the tree is validated: a push that changes nothing
    // does not load it.
    const writing = willWrite.then((will) => (will ? loadWriting() : undefined));
    writing.catch(() => undefined);
    // What Flux will not fetch, now and after the push: at the bucket root the tree's own .sourceignore replaces the bucket's.
    const ownIgnore = prefix === "" ? files.find((file) => file.relative === SOURCEIGNORE) : undefined;
    const patterns = ignorePatterns(ownIgnore ? await readFile(ownIgnore.absolute) : await (askedIgnore ?? rootIgnore(store, listRequest)), options.specIgnore);
    const revisions = fluxRevisions(patterns);
    const ignored = revisions.ignored;
    // The listing runs while the tree is validated; a validation failure is reported first. Under the early lease
    // Ctrl-C or SIGTERM ends the wait at once, and the lease is let go (nothing was written).
    const settled = Promise.allSettled([
        validateManifests(dir, prefix, {
            build: !options.skipBuild,
            files,
            complete: tree.ignored.length + tree.nestedRepositories.length === 0,
            allowPlainSecrets: options.allowPlainSecrets,
            ignored,
            cache: options.validationCache,
            checks: options.validation,
            log: options.log,
        }),
        listRequest,
        versioningRequest,
    ]);
    const [validated, listed, versioned] = early ? await Interrupts.until(settled).catch(validationInterrupted) : await settled;
    if (validated.status === "rejected") throw validated.reason;
    if (listed.status === "rejected") throw listed.reason;
    if (versioned.status === "rejected") throw versioned.reason;
    options.log(
        validated.value === "passed before"
            ? `validated ${files.length} file(s) in ${dir}: the same content passed before (validation cache; --revalidate runs it again)`
            : `validated ${files.length} file(s) in ${dir}`,
    );

    const listing = listed.value;
    const plan = await planned;
    // A lease or a suspended Bucket that a stopped writer left is cleared under the lease even when nothing changes.
    let leaseLeft = false;
    if (leaseListed(listing)) {
        leaseLeft = !options.dryRun && (await Lease.left(store, prefix, options.lease.breakStale));
        if (!leaseLeft) options.log(`note: the prefix's lease ${leaseKey(prefix)} is held or was left: another push or rollback may be writing it`);
    }
    const resumeOnly = options.publication?.leftSuspended === true || leaseLeft;
    if (options.dryRun || (!changes(plan) && !resumeOnly)) return report(plan, listing, store, prefix, files, revisions, options);
    refuseUnversioned(store, versioned.value, options);
    const [{ guardedWrite, releaseBefore }, { gitInfo }] = (await writing) ?? (await loadWriting());
    // The outcome is printed once the Bucket is resumed, before the wait for the apply.
    let result: PushResult | undefined;
    const finish = (written: GuardedWriteResult<PushPlan>) =>
        (result ??= written.objects
            ? { ...done(written.plan, written.objects, prefix, revisions, options.log), before: releaseBefore(written, revisions) }
            : report(written.plan, written.listing, store, prefix, files, revisions, options));
    const afterResume = async (lease: Lease, written: GuardedWriteResult<PushPlan>) => options.afterResume?.(lease, finish(written).before);
    // Only a push that writes asks git (the record and the Bucket's commit annotation are all that use it); it asks
    // while the lease is taken and the files are written, not after them. gitInfo never rejects.
    let git: Promise<GitInfo | undefined> | undefined;
    const write = () => guardedWrite<PushPlan>(
        {
            command: "push",
            plan: planFor,
            changes: (plan) => (changes(plan) ? pushChanges(store, plan) : undefined),
            describe: (plan) => {
                if (changes(plan)) describePlan(plan, store, prefix, files, options.log);
            },
            release: async (plan, objects, listing) => {
                const repository = await (git ??= gitInfo(dir));
                const facts: ReleaseFacts = {
                    command: "push",
                    revision: revisions.revision(objects),
                    git: repository,
                    message: options.message,
                    added: plan.uploads.filter((upload) => upload.previous === null).map((upload) => upload.key),
                    modified: plan.uploads.filter((upload) => upload.previous !== null).map((upload) => upload.key),
                    removed: plan.deletes.map((entry) => entry.key),
                    objects,
                    before: { objects: listing, revision: revisions.revision(listing) },
                };
                return { facts, commit: repository?.commit };
            },
        },
        {
            store,
            prefix,
            // The listing above stands for the lease's own look when it held none (Lease.take: listedAbsent); under
            // the early lease it is the listing the write plans from.
            lease: early ?? { ...options.lease, listedAbsent: !leaseListed(listing) },
            listed: early && listing,
            publication: options.publication,
            concurrency: options.concurrency,
            afterResume,
            log: options.log,
        },
    );
    if (changes(plan)) git = gitInfo(dir);
    if (changes(plan) || options.publication?.leftSuspended) return finish(await write());
    // Only to clear a lease a stopped writer left: credentials that may not write (a reader) leave it, as before.
    try {
        return finish(await write());
    } catch (error) {
        if (!(error instanceof AccessDeniedError)) throw error;
        options.log(`note: the prefix's lease ${leaseKey(prefix)} was left by a writer that stopped; these credentials may not clear it`);
        return report(plan, listing, store, prefix, files, revisions, options);
    }
}

/**
 * At the bucket root, the bucket's .sourceignore for a tree that ships none (or whose own Git ignores): read only if
 * the listing of the root, which a push makes anyway, has it. A push of a root tree into a bucket without one sends
 * no request for it. A listing that failed shows nothing: it is read then, as under a prefix (the listing's error
 * comes after validation, as ever).
 */
async function rootIgnore(store: ObjectStore, listRequest: Promise<ObjectEntry[]>): Promise<Buffer | undefined> {
    const listing = await listRequest.catch(() => undefined);
    return listing === undefined || listing.some((entry) => entry.key === SOURCEIGNORE) ? store.get(SOURCEIGNORE) : undefined;
}

/** What a push that writes loads besides what every push does. */
const loadWriting = () => Promise.all([import("./guardedWrite.ts"), import("./provenance.ts")]);

/** A signal while the tree was validated under the early lease: nothing was written, and the lease is let go next. */
function validationInterrupted(error: unknown): never {
    if (!(error instanceof InterruptedError)) throw error;
    throw new CliError(`${error.message} while the tree was validated: nothing was written, and the push lets go of its lease`, error.exitCode);
}

/** The writes of a push plan: each upload conditional on the object listed (or its absence). */
function pushChanges(store: ObjectStore, plan: PushPlan): Changes {
    return {
        keep: [...plan.unchanged, ...plan.retained],
        deletes: plan.deletes,
        writes: plan.uploads.map((upload) => ({
            key: upload.key,
            run: async () =>
                store.put(upload.key, await readFile(upload.file.absolute), {
                    md5: upload.file.md5,
                    contentType: contentType(upload.key),
                    expected: upload.previous,
                }),
        })),
    };
}

const changes = (plan: PushPlan) => plan.uploads.length + plan.deletes.length > 0;

/** A push with nothing to change, or a dry run: the plan, and for the former the revision Flux reports now. */
function report(
    plan: PushPlan,
    listing: ObjectEntry[],
    store: ObjectStore,
    prefix: string,
    files: LocalFile[],
    revisions: FluxRevisions,
    options: PushOptions,
): PushResult {
    describePlan(plan, store, prefix, files, options.log);
    if (options.dryRun) {
        options.log("dry run: nothing was changed");
        return { plan };
    }
    return done(plan, listing, prefix, revisions, options.log);
}

function done(plan: PushPlan, objects: ObjectEntry[], prefix: string, revisions: FluxRevisions, log: (line: string) => void): PushResult {
    log(`uploaded ${plan.uploads.length}, deleted ${plan.deletes.length}, unchanged ${plan.unchanged.length}`);
    const revision = revisions.revision(objects);
    log(`Flux revision (Bucket spec.prefix '${prefix}'): ${revision}`);
    return { plan, revision };
}

function refuseUnversioned(store: ObjectStore, versioned: boolean | undefined, options: PushOptions): void {
    if (versioned !== false) return;
    if (!options.allowUnversioned) {
        throw new UsageError(
            `versioning is not enabled on ${store.description}: this push's overwrites and deletes would be permanent, and ` +
                `history and rollback could not undo them. Nothing was uploaded; turn versioning on (the infra stack does), ` +
                `or pass --allow-unversioned`,
        );
    }
    options.log(`warning: versioning is not enabled on ${store.description}: overwrites and deletes are permanent`);
}

/**
 * At the bucket root, a tree without a `.sourceignore` would prune the bucket's: the one Flux reads for every
 * prefix (the infra stack writes it for environments). It is kept, and describePlan says so.
 */
function keepRootSourceignore(plan: PushPlan, prefix: string): PushPlan {
    const rootIgnore = prefix === "" ? plan.deletes.find((entry) => entry.key === SOURCEIGNORE) : undefined;
    if (!rootIgnore) return plan;
    return { ...plan, deletes: plan.deletes.filter((entry) => entry !== rootIgnore), retained: [...plan.retained, rootIgnore], keptSourceignore: true };
}

function describePlan(plan: PushPlan, store: ObjectStore, prefix: string, files: LocalFile[], log: (line: string) => void): void {
    if (plan.keptSourceignore) {
        log(
            `note: kept the bucket's root ${SOURCEIGNORE}, which the tree does not have: Flux reads it for every prefix. ` +
                `Add it to the tree to change it; delete it with your storage tools if you mean to`,
        );
    }
    if (prefix !== "" && files.some((file) => file.relative === SOURCEIGNORE)) {
        log(`note: Flux reads .sourceignore only at the bucket root, not at ${prefix}${SOURCEIGNORE}`);
    }
    const added = plan.uploads.filter((u) => u.previous === null).length;
    log(
        `plan for ${store.description} prefix '${prefix}': ${plan.uploads.length} to upload ` +
            `(${added} new, ${plan.uploads.length - added} changed), ${plan.unchanged.length} unchanged, ` +
            `${plan.deletes.length} to delete${plan.retained.length ? `, ${plan.retained.length} kept though not in the tree` : ""}`,
    );
    for (const upload of plan.uploads) log(`  ${upload.previous ? "~" : "+"} ${upload.key}`);
    for (const entry of plan.deletes) log(`  - ${entry.key}`);
}
