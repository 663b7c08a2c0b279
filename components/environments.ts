import { BUCKETOPS_IGNORE } from "../src/bucket/keys.ts";

/** One environment of a shared bucket: a cluster that reads only the keys under its prefix. */
export interface Environment {
    /** DNS-label name, used in resource names and by the flux stack to pick its environment. */
    name: string;
    /** Key prefix, normalized with exactly one trailing slash and no leading one, e.g. `prod/` or `teams/a/`. */
    prefix: string;
}

/** The identities one environment gets, whatever the cloud. */
export interface EnvironmentIdentities<Identity> {
    prefix: string;
    reader: Identity;
    writer: Identity;
}

/**
 * Flux reads `.sourceignore` (SOURCEIGNORE) at the bucket root whatever its prefix, and fails on any error but NoSuchKey.
 * A prefix-scoped identity cannot tell a missing root object from a forbidden one (S3 answers 403 without an
 * unconditional ListBucket), so with environments the root file always exists and every identity may read it.
 */
export const SOURCEIGNORE_CONTENT =
    "# Read by Flux for every environment of this bucket: patterns here apply to all of them.\n" +
    "# Managed by the flux-bucket infra stack.\n" +
    BUCKETOPS_IGNORE;
