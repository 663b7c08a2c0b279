import * as aws from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";
import { type Environment, type EnvironmentIdentities, promotionSources, SOURCEIGNORE_CONTENT } from "../environments.ts";
import { AWS_STS_AUDIENCE, type GithubTrust, githubSubjects, githubTrustProblem, kubernetesSubject, readerServiceAccount } from "../../src/bucket/identity.ts";
import { BucketCredentials } from "./bucketCredentials.ts";
import { BucketRole, type WebIdentityTrust } from "./bucketRole.ts";
import type { BucketAccess } from "./policies.ts";
import { VersionedBucket, type VersionedBucketArgs } from "./versionedBucket.ts";

export interface FluxBucketArgs extends VersionedBucketArgs {
    /** Environments sharing the bucket, each with a reader and a writer scoped to its prefix. Unset: one of each for the whole bucket. */
    environments?: Environment[];
    /**
     * Flux reads with workload identity (IRSA) instead of an access key: each reader is an IAM role that only tokens of
     * this OIDC provider (the cluster's) for the reader's Kubernetes service account may assume (`readerServiceAccount`
     * in src/bucket/identity.ts: source-controller, or one per environment), and no IAM user or key is created.
     * `objectLevel`: the whole bucket's reader trusts `flux-bucket` instead of source-controller, for a cluster without
     * EKS's pod identity webhook (source-controller then requests the token and assumes the role itself).
     * Unset: IAM users with access keys for Flux and for uploads.
     */
    workloadIdentity?: { oidcProviderArn: pulumi.Input<string>; namespace: string; objectLevel?: boolean };
    /**
     * A writer role for pushes and a read-only role for pull requests, assumable by GitHub Actions jobs of one repository
     * (with `sub` in each form `subjects` accepts: by name and/or by name and immutable ids).
     */
    githubActions?: GithubTrust & { oidcProviderArn: pulumi.Input<string> };
}

/** Flux's reader: an IAM user with a key, or (workload identity) a role. */
export type Reader = BucketCredentials | BucketRole;

export type EnvironmentCredentials = EnvironmentIdentities<Reader, BucketCredentials, BucketRole>;

/**
 * The AWS side of BucketOps: the versioned bucket, a read-only identity for Flux and a writer for uploads,
 * either for the whole bucket or, with `environments`, a pair per environment limited to its prefix.
 */
export class FluxBucket extends pulumi.ComponentResource {
    readonly bucket: VersionedBucket;
    /** Whole-bucket identities; unset when the bucket is split into environments. */
    readonly reader?: Reader;
    /** The key-based writer; unset with workload identity. */
    readonly writer?: BucketCredentials;
    /** GitHub Actions' writer and pull-request reader, for the whole bucket. */
    readonly ci?: { writer: BucketRole; reader: BucketRole };
    readonly environments: Record<string, EnvironmentCredentials> = {};
    readonly bucketName: pulumi.Output<string>;
    readonly region: pulumi.Output<string>;
    /** What Flux's Bucket `spec.endpoint` takes: the regional S3 host, no scheme. */
    readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: FluxBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:FluxBucket", name, {}, opts);
        const parent = { parent: this };
        const { environments, workloadIdentity, githubActions, ...bucketArgs } = args;
        const trustProblem = githubActions && githubTrustProblem(githubActions);
        if (trustProblem) throw new pulumi.InputPropertyError({ propertyPath: "githubActions.ids", reason: trustProblem });

        this.bucket = new VersionedBucket(name, bucketArgs, parent);
        const bucketArn = this.bucket.arn;
        const keys = (suffix: string, access: BucketAccess, prefix?: string, readsFrom?: string[]) =>
            new BucketCredentials(`${name}-${suffix}`, { bucketArn, access, prefix, readsFrom, tags: args.tags }, parent);
        const identities = (environment?: string, prefix?: string, readsFrom?: string[]) => {
            const suffix = environment === undefined ? "" : `${environment}-`;
            const role = (kind: string, access: BucketAccess, trust: WebIdentityTrust) =>
                new BucketRole(`${name}-${suffix}${kind}`, { bucketArn, access, prefix, readsFrom: access === "write" ? readsFrom : undefined, trust, tags: args.tags }, parent);
            const reader = workloadIdentity
                ? role("reader", "read", {
                      oidcProviderArn: workloadIdentity.oidcProviderArn,
                      audience: AWS_STS_AUDIENCE,
                      subjects: [kubernetesSubject(readerServiceAccount(workloadIdentity.namespace, environment, workloadIdentity.objectLevel))],
                  })
                : keys(`${suffix}reader`, "read", prefix);
            const writer = workloadIdentity ? undefined : keys(`${suffix}writer`, "write", prefix, readsFrom);
            const github = githubActions && githubSubjects(githubActions);
            // IAM's condition keys for GitHub's tokens are only `sub` and `aud` (no repository_id): the ids are trusted through the immutable subject.
            const trust = (subjects: string[]) => ({ oidcProviderArn: githubActions!.oidcProviderArn, audience: AWS_STS_AUDIENCE, subjects });
            const ci = github && { writer: role("ci-writer", "write", trust(github.writer)), reader: role("ci-reader", "read", trust(github.reader)) };
            return { reader, writer, ci };
        };

        if (environments === undefined) {
            ({ reader: this.reader, writer: this.writer, ci: this.ci } = identities());
        } else {
            new aws.s3.BucketObjectv2(
                `${name}-sourceignore`,
                { bucket: this.bucket.bucketName, key: SOURCEIGNORE, content: SOURCEIGNORE_CONTENT, contentType: "text/plain" },
                { parent: this, dependsOn: [this.bucket.configured] },
            );
            for (const environment of environments) {
                const readsFrom = promotionSources(environment, environments);
                this.environments[environment.name] = { prefix: environment.prefix, ...identities(environment.name, environment.prefix, readsFrom) };
            }
        }

        this.bucketName = this.bucket.bucketName;
        this.region = this.bucket.region;
        this.endpoint = pulumi.interpolate`s3.${this.region}.amazonaws.com`;
        this.registerOutputs({ bucketName: this.bucketName, region: this.region, endpoint: this.endpoint });
    }
}
