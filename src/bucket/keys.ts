import path from "node:path";

/**
 * The rules for keys in a bucket that Flux reads: which object Flux reads its ignore patterns from, what a prefix
 * is, and which keys hold bucketops' lease and release records. Components, stacks, validation and the CLI all take them from here.
 */

/** The ignore file source-controller reads from the bucket root, and only from there, whatever the Bucket's prefix. */
export const SOURCEIGNORE = ".sourceignore";

/**
 * A bucket key prefix as a folder: no leading slash, exactly one trailing slash, `.`/`//` collapsed
 * as in the paths Flux writes the artifact to (`prod`, `/prod/` and `prod//` are all `prod/`).
 * An empty prefix (the bucket root) stays empty.
 */
export function normalizePrefix(prefix: string): string {
    // normalize keeps the trailing slash; the root ("/") becomes "".
    return path.posix.normalize(`/${prefix}/`).replace(/^\/+/, "");
}

/**
 * The order in which S3 lists keys (ListObjectsV2: "in UTF-8 character encoding in lexicographical order") and GCS
 * too: by their UTF-8 bytes, which differs from JavaScript's string order (UTF-16 code units) above U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
    // UTF-8's byte order is code point order, and so is UTF-16's code unit order but for one range: a surrogate
    // (half of a code point above U+FFFF) is below U+E000-U+FFFF as a code unit, above them as a code point. Compared
    // unit by unit, without encoding either string (a listing compares thousands of keys).
    const length = Math.min(a.length, b.length);
    for (let i = 0; i < length; i++) {
        const x = a.charCodeAt(i);
        const y = b.charCodeAt(i);
        if (x !== y) return x >= 0xd800 && y >= 0xd800 ? codePointRank(x) - codePointRank(y) : x - y;
    }
    return a.length - b.length;
}

/** A code unit from U+D800 up, ranked as the code points it stands for: surrogates after U+E000-U+FFFF. */
const codePointRank = (unit: number) => (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

/**
 * The variable the root Kustomization's postBuild sets to the Bucket's prefix (`prod/`; "" at the bucket root) when the
 * flux stack has `substitutePrefix`: a tree whose Flux paths are written `./${BUCKETOPS_PREFIX}apps/prod` reads the
 * same under every prefix, so one environment's release can be promoted to another byte for byte. Kustomizations
 * the root applies pass it on with `postBuild.substitute: {BUCKETOPS_PREFIX: "${BUCKETOPS_PREFIX}"}`.
 */
export const PREFIX_VARIABLE = "BUCKETOPS_PREFIX";

/** The root Kustomization's postBuild.substitute for a Bucket at `prefix` (normalized): PREFIX_VARIABLE's value. */
export function prefixSubstitution(prefix: string): Record<string, string> {
    return { [PREFIX_VARIABLE]: prefix };
}

/** The name of the object that holds a prefix's lease while a push or rollback writes it (see src/cli/lease.ts). */
export const LEASE_NAME = ".bucketops-lock";

/** The lease's key for a folder prefix (`prod/` → `prod/.bucketops-lock`; the bucket root's is `.bucketops-lock`). */
export function leaseKey(prefix: string): string {
    return `${prefix}${LEASE_NAME}`;
}

/** The name of the object whose versions are the prefix's release records (who pushed what and why; src/cli/provenance.ts). */
export const RELEASE_NAME = ".bucketops-release";

/** The release record's key for a folder prefix. */
export function releaseKey(prefix: string): string {
    return `${prefix}${RELEASE_NAME}`;
}

/** bucketops' own objects under a prefix: the lease and the release record. A tree may not hold files so named. */
export const BUCKETOPS_NAMES = [LEASE_NAME, RELEASE_NAME] as const;

/**
 * The patterns that keep bucketops' own objects out of Flux's index, in `.sourceignore` syntax: a name without a
 * slash matches that name at any depth, so a Bucket at the root ignores the environments' too. The flux stack's
 * Bucket carries them in `spec.ignore` (after the user's patterns, so they win) and bucketops adds them to every
 * revision it computes. A Bucket made by hand needs them in its `spec.ignore` too, or Flux sees a lease while a
 * push runs, and a new revision for every release record.
 */
export const BUCKETOPS_IGNORE = `# bucketops' lease and release records: never part of a revision\n${BUCKETOPS_NAMES.join("\n")}\n`;

/** Whether a key is a lease (or lies under a folder named like one). */
export function isLeaseKey(key: string): boolean {
    return key.split("/").includes(LEASE_NAME);
}

/** Whether a key is one of bucketops' own objects (or lies under a folder so named), i.e. what BUCKETOPS_IGNORE makes Flux skip. */
export function isBucketopsKey(key: string): boolean {
    return key.split("/").some((part) => (BUCKETOPS_NAMES as readonly string[]).includes(part));
}
