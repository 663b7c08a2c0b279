import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isBucketopsKey, normalizePrefix, releaseKey, SOURCEIGNORE } from "../bucket/keys.ts";
import { SCHEME_TITLES } from "../bucket/providers.ts";
import { mapBounded } from "../fs/bounded.ts";
import { CliError, UsageError } from "./errors.ts";
import { guardedWrite, releaseBefore, type LeaseSettings } from "./guardedWrite.ts";
import { loadHistory, type State } from "./history.ts";
import type { Lease } from "./lease.ts";
import type { AtomicPublish } from "./publish.ts";
import { fluxRevisions, ignorePatterns } from "./revision.ts";
import { contentDiffers, copyChanges, describeState, planCopies, resolveTarget, type CopyPlan } from "./rollback.ts";
import { ignoreMatcher } from "./sourceignore.ts";
import type { ObjectStore, ObjectVersion } from "./store/types.ts";
import type { LocalFile } from "./tree.ts";
import { formatBucketUrl } from "./url.ts";
import { validateManifests, type ValidationChecks } from "./validate.ts";

export interface PromoteOptions {
    /** Which release of the source (`--release`: a number, an id, a revision or a time); default its current release. */
    release?: string;
    dryRun: boolean;
    /** Allow a release in which Flux would see nothing (promoting it deletes every object Flux reads in the target). */
    allowEmpty: boolean;
    /** Run the kustomize builds of validation (promote --skip-build turns them off). */
    build: boolean;
    /** How the release is validated under the target prefix (the target's root Kustomization). */
    checks?: ValidationChecks;
    allowPlainSecrets?: boolean;
    lease: LeaseSettings | Lease;
    concurrency: number;
    specIgnore?: string;
    /** Suspends the target's Bucket around the writes (see push); unset: not atomic. */
    publication?: AtomicPublish;
    message?: string;
    /** After the resume, under the lease: the wait for the apply; `before` is what --rollback-on-failure restores (see releaseBefore). */
    afterResume?: (lease: Lease, before: string | undefined) => Promise<void>;
    log: (line: string) => void;
}

export interface PromoteResult {
    /** The source's release promoted. */
    release: State;
    /** The target's revision after the promotion (undefined on a dry run or when nothing had to change). */
    revision?: string;
}

/**
 * `bucketops promote <from> <to>`: makes one release of an environment's prefix the content of another's, exactly:
 * each object of the release's manifest is copied server-side, at its recorded version, to the same path under the
 * target prefix (keys the release does not have are deleted there). The release is first validated as Flux will
 * build it under the target prefix, so a tree whose Flux paths name the source's prefix is refused before anything is
 * written. The writes go through the guarded write of the target (lease, atomic publish, wait), and the target's
 * release record says which release of which prefix it is, with the release's commit.
 */
export async function promote(from: ObjectStore, to: ObjectStore, options: PromoteOptions): Promise<PromoteResult> {
    const fromPrefix = normalizePrefix(from.url.prefix);
    const toPrefix = normalizePrefix(to.url.prefix);
    const fromUrl = formatBucketUrl(from.url);
    const toUrl = formatBucketUrl(to.url);
    if (from.url.scheme !== to.url.scheme || from.url.bucket !== to.url.bucket) {
        throw new UsageError(`promote copies between two prefixes of one bucket (its environments), not from ${fromUrl} to ${toUrl}`);
    }
    if (fromPrefix.startsWith(toPrefix) || toPrefix.startsWith(fromPrefix)) {
        throw new UsageError(
            `cannot promote from ${fromUrl} to ${toUrl}: ${fromPrefix === toPrefix ? "they are the same prefix" : "one prefix contains the other"}; allowed: two environments' prefixes that do not nest`,
        );
    }
    const release = await chooseRelease(from, options);
    options.log(`promoting ${describeState(release)} of ${fromUrl}${release.release?.git ? `, commit ${release.release.git.commit.slice(0, 12)}` : ""}`);

    // Each object under the target, at the same path below the prefix.
    const versions = [...release.objects.values()].map((version) => ({ version, key: toPrefix + version.key.slice(fromPrefix.length) }));
    const sourceignore = await to.get(SOURCEIGNORE);
    const patterns = ignorePatterns(sourceignore, options.specIgnore);
    const revisions = fluxRevisions(patterns);
    await validateRelease(from, versions, toPrefix, patterns, options);

    if (options.dryRun) {
        const listing = (await to.list(toPrefix)).filter((entry) => !isBucketopsKey(entry.key));
        const plan = planCopies(versions, listing);
        describePromotion(plan, options.log);
        if (copyChanges(to, plan)) options.log("dry run: nothing was changed");
        return { release };
    }
    const written = await guardedWrite<CopyPlan>(
        {
            command: "promote",
            plan: (listing) => planCopies(versions, listing),
            changes: (plan) => copyChanges(to, plan),
            describe: (plan) => describePromotion(plan, options.log),
            release: async (plan, objects, listing) => ({
                facts: {
                    command: "promote",
                    revision: revisions.revision(objects),
                    git: release.release?.git,
                    message: options.message ?? `promote release ${release.number} of ${fromUrl}${release.release?.message ? `: ${release.release.message}` : ""}`,
                    added: plan.copies.filter(({ key }) => !plan.listed.has(key)).map(({ key }) => key),
                    modified: plan.copies.filter(({ key }) => plan.listed.has(key)).map(({ key }) => key),
                    removed: plan.deletes.map((entry) => entry.key),
                    objects,
                    before: { objects: listing, revision: revisions.revision(listing) },
                    source: { url: fromUrl, number: release.number, ...(release.release?.id ? { id: release.release.id } : {}), revision: release.revision },
                },
                commit: release.release?.git?.commit,
            }),
        },
        {
            store: to,
            prefix: toPrefix,
            lease: options.lease,
            publication: options.publication,
            concurrency: options.concurrency,
            afterResume: async (lease, written) => options.afterResume?.(lease, releaseBefore(written, revisions)),
            log: options.log,
        },
    );
    if (!written.objects) {
        options.log(`${toUrl} already holds release ${release.number} of ${fromUrl}: nothing to do`);
        return { release };
    }
    const { plan, objects } = written;
    const copied = new Map(objects.map((entry) => [entry.key, entry]));
    const altered = plan.copies.filter(({ key, version }) => contentDiffers(copied.get(key), version));
    if (altered.length > 0) {
        throw new CliError(`copied ${altered.map(({ key }) => key).join(", ")} but the content differs from release ${release.number} of ${fromUrl}`);
    }
    const revision = revisions.revision(objects);
    // Where Flux saw nothing before, there is nothing to go back to (a rollback would refuse the revision of nothing).
    const undo = releaseBefore(written, revisions);
    options.log(`promoted release ${release.number} of ${fromUrl} to ${toUrl}: Flux revision ${revision}`);
    if (!to.copiesKeepEtag) options.log(`(content checked by MD5: ${SCHEME_TITLES[to.url.scheme]} gives every copy a new etag)`);
    if (undo !== undefined) options.log(`undo with: bucketops rollback ${toUrl} --to ${undo}`);
    return { release, revision };
}

/** The source's release to promote: `--release`, else the current state, which must be a whole release. */
async function chooseRelease(from: ObjectStore, options: PromoteOptions): Promise<State> {
    const fromUrl = formatBucketUrl(from.url);
    // The current release record, read first: credentials that may not read the source (no promotion grant) are
    // refused here, naming the request, rather than finding a history without records.
    await from.get(releaseKey(normalizePrefix(from.url.prefix)));
    const states = await loadHistory(from, options.specIgnore, options.log);
    if (states.length === 0) throw new UsageError(`${fromUrl} has no release to promote: push to it first`);
    const release = options.release === undefined ? states.at(-1)! : resolveTarget(states, options.release, "--release");
    const which = options.release === undefined ? `the current state of ${fromUrl}` : `--release ${options.release}`;
    if (release.writing) throw new UsageError(`${which} is being written by another writer (it holds the lease): wait for it, then promote`);
    if (release.source !== "release" || release.number === undefined) {
        const last = states.findLast((state) => state.source === "release" && state.number !== undefined);
        throw new UsageError(
            `${which} is ${release.external ? "an external change" : "a state"} no release records (${release.revision}): only a release is promoted, exactly as its manifest holds it` +
                (last ? `; the latest release is ${last.number} ('--release ${last.number}')` : "; push to it with bucketops first"),
        );
    }
    if (release.purged) throw new UsageError(`release ${release.number} of ${fromUrl} held ${release.purged.join(", ")}, whose version was purged since: it cannot be promoted`);
    if (release.indexed === 0 && !options.allowEmpty) {
        throw new UsageError(
            `release ${release.number} of ${fromUrl} has nothing Flux would apply: promoting it would delete every object Flux reads under the target, ` +
                `and Flux (prune: true) every workload it applied. Nothing was changed; pass --allow-empty if that is what you want`,
        );
    }
    if (options.release !== undefined && release !== states.at(-1)) {
        options.log(`note: release ${release.number} is not the current state of ${fromUrl} (${describeState(states.at(-1)!)})`);
    }
    return release;
}

/**
 * The release's files fetched at their versions into a folder, validated as a push of them to the target prefix
 * would be: what Flux will build there (its paths must name the target's prefix, or ${BUCKETOPS_PREFIX}).
 */
async function validateRelease(from: ObjectStore, versions: { version: ObjectVersion; key: string }[], toPrefix: string, patterns: string[], options: PromoteOptions): Promise<void> {
    const dir = await mkdtemp(path.join(tmpdir(), "bucketops-promote-"));
    try {
        const files: LocalFile[] = await mapBounded(
            versions,
            async ({ version, key }) => {
                const body = await from.get(version.key, version.versionId);
                if (!body) throw new CliError(`version ${version.versionId} of ${version.key} is gone: the release cannot be promoted`);
                const relative = key.slice(toPrefix.length);
                const absolute = path.join(dir, ...relative.split("/"));
                await mkdir(path.dirname(absolute), { recursive: true });
                await writeFile(absolute, body);
                return { relative, absolute, size: body.length, md5: createHash("md5").update(body).digest() };
            },
            16,
        );
        await validateManifests(dir, toPrefix, {
            build: options.build,
            files,
            ignored: ignoreMatcher(patterns),
            allowPlainSecrets: options.allowPlainSecrets,
            checks: options.checks,
            log: options.log,
        }).catch((error: unknown) => {
            // validateManifests names the temporary folder: say which release it is.
            if (error instanceof CliError) throw new CliError(error.message.split(dir).join(`(release of ${formatBucketUrl(from.url)} under ${toPrefix || "the bucket root"})`), error.exitCode);
            throw error;
        });
        options.log(`validated ${files.length} file(s) of the release as Flux will build them under ${toPrefix === "" ? "the bucket root" : toPrefix}`);
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
}

function describePromotion(plan: CopyPlan, log: (line: string) => void): void {
    log(`plan: ${plan.copies.length} to copy, ${plan.deletes.length} to delete, ${plan.keep.length} unchanged`);
    for (const { version, key } of plan.copies) log(`  < ${key} (version ${version.versionId} of ${version.key})`);
    for (const entry of plan.deletes) log(`  - ${entry.key}`);
}
