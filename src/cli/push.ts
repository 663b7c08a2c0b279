import { readFile } from "node:fs/promises";
import { applyChanges } from "./apply.ts";
import { UsageError } from "./errors.ts";
import { beginPublish, publishing, type AtomicPublish } from "./publish.ts";
import { planPush, type PushPlan } from "./plan.ts";
import { ignorePatterns, fluxRevision } from "./revision.ts";
import { BUCKETOPS_NAMES, isBucketopsKey, leaseKey, normalizePrefix, SOURCEIGNORE } from "../bucket/keys.ts";
import { gitInfo, recordRelease } from "./provenance.ts";
import { ignoreMatcher } from "./sourceignore.ts";
import { Lease, type LeaseOptions } from "./lease.ts";
import { AccessDeniedError } from "./store/errors.ts";
import type { ObjectEntry, ObjectStore } from "./store/types.ts";
import { contentType, readTree, type LocalFile } from "./tree.ts";
import { validateManifests } from "./validate.ts";
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
    lease: Pick<LeaseOptions, "waitMs" | "breakStale" | "conditional">;
    /** Flux's spec.ignore of the Bucket, for the revision printed at the end. */
    specIgnore?: string;
    /** Suspends the cluster's Bucket around the writes; unset: the publish is not atomic, and the push says so. */
    publication?: AtomicPublish;
    /** Why, for the release record (-m); default: the subject of the tree's git commit, if it is in a repository. */
    message?: string;
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
    const bucketIgnore = store.get(SOURCEIGNORE);
    bucketIgnore.catch(() => undefined); // awaited below; must not go unhandled while the tree is read
    const files = await readTree(dir);
    if (files.length === 0) {
        throw new UsageError(`'${dir}' has no files: pushing it would delete every object under the prefix`);
    }
    const reserved = files.find((file) => isBucketopsKey(file.relative));
    if (reserved) {
        throw new UsageError(
            `'${reserved.relative}' in ${dir}: the names ${BUCKETOPS_NAMES.join(" and ")} are bucketops' lease and release records, which Flux ignores; rename it`,
        );
    }
    // What Flux will not fetch, now and after the push: at the bucket root the tree's own .sourceignore replaces the bucket's.
    const ownIgnore = prefix === "" ? files.find((file) => file.relative === SOURCEIGNORE) : undefined;
    const patterns = ignorePatterns(ownIgnore ? await readFile(ownIgnore.absolute) : await bucketIgnore, options.specIgnore);
    const ignored = ignoreMatcher(patterns);
    // The listing runs while the tree is validated; a validation failure is reported first.
    const [validated, listed, versioned] = await Promise.allSettled([
        validateManifests(dir, prefix, { build: !options.skipBuild, files, ignored, cache: options.validationCache, checks: options.validation, log: options.log }),
        store.list(prefix),
        // An identity that may not read the setting (a reader) finds out at its first write instead.
        store.versioningEnabled().catch((error: unknown) => (error instanceof AccessDeniedError ? undefined : Promise.reject(error))),
    ]);
    if (validated.status === "rejected") throw validated.reason;
    if (listed.status === "rejected") throw listed.reason;
    if (versioned.status === "rejected") throw versioned.reason;
    options.log(
        validated.value === "passed before"
            ? `validated ${files.length} file(s) in ${dir}: the same content passed before (validation cache; --revalidate runs it again)`
            : `validated ${files.length} file(s) in ${dir}`,
    );

    // A push that changes nothing writes nothing, not even the lease (a reader may run it). One that does takes the
    // lease, then plans again from a listing under it: another writer may have finished in between.
    const planFor = (listing: ObjectEntry[]) =>
        keepRootSourceignore(planPush(files, listing.filter((entry) => !isBucketopsKey(entry.key)), prefix, options.prune), prefix);
    let listing = listed.value;
    let plan = planFor(listing);
    if (listing.some((entry) => entry.key === leaseKey(prefix))) {
        options.log(`note: the prefix's lease ${leaseKey(prefix)} is held or was left: another push or rollback may be writing it`);
    }
    // A Bucket left suspended by a push that stopped is resumed under the lease even when nothing changes.
    const resumeOnly = options.publication?.leftSuspended === true;
    if (options.dryRun || (!changes(plan) && !resumeOnly)) return report(plan, listing, store, prefix, files, patterns, options);
    refuseUnversioned(store, versioned.value, options);
    const lease = await Lease.take(store, prefix, { ...options.lease, command: "push", log: options.log });
    try {
        listing = await store.list(prefix);
        plan = planFor(listing);
        if (!changes(plan)) {
            await options.publication?.resume();
            return report(plan, listing, store, prefix, files, patterns, options);
        }
        describePlan(plan, store, prefix, files, options.log);
        await beginPublish(options);
        const objects = await publishing(options.publication, () => applyChanges(
            store,
            {
                prefix,
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
            },
            { concurrency: options.concurrency, verb: "push", lease },
        ));
        lease.check();
        // Only a push that wrote asks git: the record and the Bucket's commit annotation are all that use it.
        const git = await gitInfo(dir);
        await recordRelease(store, prefix, {
            command: "push",
            revision: fluxRevision(objects, patterns),
            git,
            message: options.message,
            added: plan.uploads.filter((upload) => upload.previous === null).map((upload) => upload.key),
            modified: plan.uploads.filter((upload) => upload.previous !== null).map((upload) => upload.key),
            removed: plan.deletes.map((entry) => entry.key),
        }, options.log);
        await options.publication?.resume(git?.commit);
        const previous = listing.filter((entry) => !isBucketopsKey(entry.key));
        const before = previous.length > 0 ? fluxRevision(previous, patterns) : undefined;
        return { ...done(plan, objects, prefix, patterns, options.log), before };
    } finally {
        await lease.release();
    }
}

const changes = (plan: PushPlan) => plan.uploads.length + plan.deletes.length > 0;

/** A push with nothing to change, or a dry run: the plan, and for the former the revision Flux reports now. */
function report(
    plan: PushPlan,
    listing: ObjectEntry[],
    store: ObjectStore,
    prefix: string,
    files: LocalFile[],
    patterns: string[],
    options: PushOptions,
): PushResult {
    describePlan(plan, store, prefix, files, options.log);
    if (options.dryRun) {
        options.log("dry run: nothing was changed");
        return { plan };
    }
    return done(plan, listing, prefix, patterns, options.log);
}

function done(plan: PushPlan, objects: ObjectEntry[], prefix: string, patterns: string[], log: (line: string) => void): PushResult {
    log(`uploaded ${plan.uploads.length}, deleted ${plan.deletes.length}, unchanged ${plan.unchanged.length}`);
    const revision = fluxRevision(objects, patterns);
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
