import * as pulumi from "@pulumi/pulumi";
import { BUCKETOPS_IGNORE, normalizePrefix } from "../src/bucket/keys.ts";

/** One environment of a shared bucket: a cluster that reads only the keys under its prefix. */
export interface Environment {
    /** DNS-label name, used in resource names and by the flux stack to pick its environment. */
    name: string;
    /** Key prefix, normalized with exactly one trailing slash and no leading one, e.g. `prod/` or `teams/a/`. */
    prefix: string;
    /**
     * Environments (by name) whose releases this one's writers may promote (`bucketops promote`): they may read their
     * objects and versions, never write them. Unset: none.
     */
    promotesFrom?: string[];
}

/**
 * The prefixes an environment's writers may read to promote from (its `promotesFrom`), checked: each names another
 * environment of the same list.
 */
export function promotionSources(environment: Environment, all: Environment[]): string[] {
    return (environment.promotesFrom ?? []).map((name, i) => {
        const source = all.find((candidate) => candidate.name === name);
        if (!source || source.name === environment.name) {
            throw new pulumi.InputPropertyError({
                propertyPath: `environments[${all.indexOf(environment)}].promotesFrom[${i}]`,
                reason: `"${name}" is ${source ? "the environment itself" : "no environment of this bucket"}; allowed: ${all.filter((e) => e !== environment).map((e) => e.name).join(", ") || "none (one environment only)"}`,
            });
        }
        return source.prefix;
    });
}

/** The identities one environment gets, whatever the cloud. */
export interface EnvironmentIdentities<Reader, Writer = Reader, Ci = Reader> {
    prefix: string;
    /** Flux's: keys, or (auth workload-identity) an identity bound to a Kubernetes service account. */
    reader: Reader;
    /** The key-based writer (auth keys); unset with workload identity, where people write with their own credentials or CI does. */
    writer?: Writer;
    /** GitHub Actions' writer and pull-request reader, when configured. */
    ci?: { writer: Ci; reader: Ci };
}

/** Refuses a prefix that is not given as normalizePrefix() returns it (an identity's scope must be exact). */
export function checkPrefix(prefix: string | undefined): void {
    if (prefix !== undefined && (prefix === "" || prefix !== normalizePrefix(prefix))) {
        throw new pulumi.InputPropertyError({
            propertyPath: "prefix",
            reason: `"${prefix}" is not a normalized prefix: give it as normalizePrefix() returns it, e.g. "${normalizePrefix(prefix) || "prod/"}", or leave it unset for the whole bucket`,
        });
    }
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
