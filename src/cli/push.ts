import { readFile } from "node:fs/promises";
import { applyChanges } from "./apply.ts";
import { UsageError } from "./errors.ts";
import { planPush, type PushPlan } from "./plan.ts";
import { ignorePatterns, fluxRevision } from "./revision.ts";
import { ignoreMatcher, SOURCEIGNORE } from "./sourceignore.ts";
import { AccessDeniedError } from "./store/errors.ts";
import type { ObjectStore } from "./store/types.ts";
import { contentType, readTree } from "./tree.ts";
import { folderPrefix } from "./url.ts";
import { validateManifests } from "./validate.ts";

export interface PushOptions {
    prune: boolean;
    dryRun: boolean;
    /** Push to a bucket without versioning, where deletes and overwrites are permanent. */
    allowUnversioned: boolean;
    /** Skip the kustomize builds of validation (files, schemas and Flux paths are still checked). */
    skipBuild?: boolean;
    concurrency: number;
    /** Flux's spec.ignore of the Bucket, for the revision printed at the end. */
    specIgnore?: string;
    log: (line: string) => void;
}

export interface PushResult {
    plan: PushPlan;
    /** The revision Flux will report; undefined on a dry run. */
    revision?: string;
}

export async function push(dir: string, store: ObjectStore, options: PushOptions): Promise<PushResult> {
    const prefix = folderPrefix(store.url.prefix);
    const bucketIgnore = store.get(SOURCEIGNORE);
    bucketIgnore.catch(() => undefined); // awaited below; must not go unhandled while the tree is read
    const files = await readTree(dir);
    if (files.length === 0) {
        throw new UsageError(`'${dir}' has no files: pushing it would delete every object under the prefix`);
    }
    // What Flux will not fetch, now and after the push: at the bucket root the tree's own .sourceignore replaces the bucket's.
    const ownIgnore = prefix === "" ? files.find((file) => file.relative === SOURCEIGNORE) : undefined;
    const patterns = ignorePatterns(ownIgnore ? await readFile(ownIgnore.absolute) : await bucketIgnore, options.specIgnore);
    const ignored = ignoreMatcher(patterns);
    // The listing runs while the tree is validated; a validation failure is reported first.
    const [validated, listed, versioned] = await Promise.allSettled([
        validateManifests(dir, prefix, { build: !options.skipBuild, files, ignored }),
        store.list(prefix),
        // An identity that may not read the setting (a reader) finds out at its first write instead.
        store.versioningEnabled().catch((error: unknown) => (error instanceof AccessDeniedError ? undefined : Promise.reject(error))),
    ]);
    if (validated.status === "rejected") throw validated.reason;
    if (listed.status === "rejected") throw listed.reason;
    if (versioned.status === "rejected") throw versioned.reason;
    options.log(`validated ${files.length} file(s) in ${dir}`);

    const plan = planPush(files, listed.value, prefix, options.prune);
    keepRootSourceignore(plan, prefix, options.log);
    describePlan(plan, store, prefix, options.log);
    const changes = plan.uploads.length + plan.deletes.length > 0;
    if (changes && versioned.value === false && !options.dryRun) {
        if (!options.allowUnversioned) {
            throw new UsageError(
                `versioning is not enabled on ${store.description}: this push's overwrites and deletes would be permanent, and ` +
                    `history and rollback could not undo them. Nothing was uploaded; turn versioning on (the infra stack does), ` +
                    `or pass --allow-unversioned`,
            );
        }
        options.log(`warning: versioning is not enabled on ${store.description}: overwrites and deletes are permanent`);
    }
    if (prefix !== "" && files.some((file) => file.relative === SOURCEIGNORE)) {
        options.log(`note: Flux reads .sourceignore only at the bucket root, not at ${prefix}${SOURCEIGNORE}`);
    }
    if (options.dryRun) {
        options.log("dry run: nothing was changed");
        return { plan };
    }

    const objects = await applyChanges(
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
        { concurrency: options.concurrency, verb: "push" },
    );
    options.log(`uploaded ${plan.uploads.length}, deleted ${plan.deletes.length}, unchanged ${plan.unchanged.length}`);

    const revision = fluxRevision(objects, patterns);
    options.log(`Flux revision (Bucket spec.prefix '${prefix}'): ${revision}`);
    return { plan, revision };
}

/**
 * At the bucket root, a tree without a `.sourceignore` would prune the bucket's: the one Flux reads for every
 * prefix (the infra stack writes it for environments). It is kept, and the push says so.
 */
function keepRootSourceignore(plan: PushPlan, prefix: string, log: (line: string) => void): void {
    const rootIgnore = prefix === "" ? plan.deletes.find((entry) => entry.key === SOURCEIGNORE) : undefined;
    if (!rootIgnore) return;
    plan.deletes = plan.deletes.filter((entry) => entry !== rootIgnore);
    plan.retained.push(rootIgnore);
    log(
        `note: kept the bucket's root ${SOURCEIGNORE}, which the tree does not have: Flux reads it for every prefix. ` +
            `Add it to the tree to change it; delete it with your storage tools if you mean to`,
    );
}

function describePlan(plan: PushPlan, store: ObjectStore, prefix: string, log: (line: string) => void): void {
    const added = plan.uploads.filter((u) => u.previous === null).length;
    log(
        `plan for ${store.description} prefix '${prefix}': ${plan.uploads.length} to upload ` +
            `(${added} new, ${plan.uploads.length - added} changed), ${plan.unchanged.length} unchanged, ` +
            `${plan.deletes.length} to delete${plan.retained.length ? `, ${plan.retained.length} kept though not in the tree` : ""}`,
    );
    for (const upload of plan.uploads) log(`  ${upload.previous ? "~" : "+"} ${upload.key}`);
    for (const entry of plan.deletes) log(`  - ${entry.key}`);
}
