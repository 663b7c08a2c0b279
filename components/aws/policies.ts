/** IAM policy documents for the bucket, as plain data so they can be checked, rendered and reused. */
import { SOURCEIGNORE } from "../../src/bucket/keys.ts";

export type BucketAccess = "read" | "write";

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Principal?: "*" | { Federated: string };
    Action: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/**
 * What each identity may do. Flux's source-controller lists the bucket (and checks it exists: HeadBucket is
 * authorized as s3:ListBucket) and reads objects. The writer (the `bucketops` CLI) also reads versions for
 * history and rollback, and aborts the multipart copy of a failed rollback. Its pushes and rollbacks only add
 * versions (a delete adds a delete marker); `bucketops purge`, which takes back a leaked secret, deletes versions
 * for good, so the writer may delete a version (s3:DeleteObjectVersion) of its own objects. Readers never may.
 */
export const BUCKET_ACTIONS: Record<BucketAccess, { bucket: string[]; objects: string[] }> = {
    read: { bucket: ["s3:ListBucket"], objects: ["s3:GetObject"] },
    write: {
        bucket: ["s3:GetBucketVersioning", "s3:ListBucket", "s3:ListBucketVersions"],
        objects: ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
    },
};

/** Bucket actions an environment's identity gets only for requests under its prefix (the `s3:prefix` condition). */
const PREFIX_SCOPED_BUCKET_ACTIONS = ["s3:ListBucketVersions"];

/**
 * The identity's policy on the bucket. A writer of an environment may also read the environments it promotes from
 * (`readsFrom`: their prefixes): their objects' versions and version listings, never a write.
 * With a `prefix` (an environment), objects are limited to those under the
 * prefix, plus the root `.sourceignore` that Flux always reads, and so are version listings. Listing keys stays
 * bucket-wide: S3 authorizes HeadBucket, which source-controller sends first on every reconcile, as s3:ListBucket
 * with no `s3:prefix` in the request, and a missing object answers 404 rather than 403 only to an identity that
 * may list. So every identity sees the bucket's key names; none can read or write another environment's objects.
 */
export function accessPolicy(bucketArn: string, access: BucketAccess, prefix?: string, readsFrom: string[] = []): PolicyDocument {
    const actions = BUCKET_ACTIONS[access];
    if (readsFrom.length > 0 && (access !== "write" || prefix === undefined)) {
        throw new Error("readsFrom (promotion sources) is for an environment's writer only");
    }
    if (prefix === undefined) {
        return {
            Version: "2012-10-17",
            Statement: [
                { Sid: "ListBucket", Effect: "Allow", Action: actions.bucket, Resource: bucketArn },
                { Sid: "Objects", Effect: "Allow", Action: actions.objects, Resource: `${bucketArn}/*` },
            ],
        };
    }
    const scoped = actions.bucket.filter((action) => PREFIX_SCOPED_BUCKET_ACTIONS.includes(action));
    const bucketWide = actions.bucket.filter((action) => !scoped.includes(action));
    // The writer's `history` also reads the root .sourceignore's past versions, to compute past revisions.
    const sourceignoreActions = actions.objects.filter((action) => action === "s3:GetObject" || action === "s3:GetObjectVersion");
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "Bucket", Effect: "Allow", Action: bucketWide, Resource: bucketArn },
            ...(scoped.length > 0
                ? [
                      {
                          Sid: "ListPrefixVersions",
                          Effect: "Allow" as const,
                          Action: scoped,
                          Resource: bucketArn,
                          Condition: { StringLike: { "s3:prefix": [`${prefix}*`, ...readsFrom.map((from) => `${from}*`), SOURCEIGNORE] } },
                      },
                  ]
                : []),
            { Sid: "Objects", Effect: "Allow", Action: actions.objects, Resource: `${bucketArn}/${prefix}*` },
            { Sid: "ReadSourceIgnore", Effect: "Allow", Action: sourceignoreActions, Resource: `${bucketArn}/${SOURCEIGNORE}` },
            // `bucketops promote`: the source environments' history and objects, read (and copied from) only.
            ...(readsFrom.length > 0
                ? [{ Sid: "PromoteFrom", Effect: "Allow" as const, Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: readsFrom.map((from) => `${bucketArn}/${from}*`) }]
                : []),
        ],
    };
}

/**
 * A role's trust policy for OIDC web identity: tokens of the IAM OIDC provider `providerArn` (whose issuer host and
 * path is `issuer`, the prefix of its condition keys) with audience `audience` and one of `subjects` as `sub`.
 * StringEquals on both: AWS's own guidance for IRSA and GitHub Actions, since a missing or wildcard `sub`
 * condition lets every workload of the cluster, or every repository on GitHub, assume the role.
 */
export function webIdentityTrustPolicy(providerArn: string, issuer: string, audience: string, subjects: string[]): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "WebIdentity",
                Effect: "Allow",
                Principal: { Federated: providerArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { [`${issuer}:aud`]: audience, [`${issuer}:sub`]: subjects.length === 1 ? subjects[0] : subjects } },
            },
        ],
    };
}

/** The issuer of an IAM OIDC provider, as its condition keys name it: the ARN's resource path (`oidc.eks.<region>.amazonaws.com/id/<id>`). */
export function oidcIssuerOf(providerArn: string): string {
    const match = /^arn:aws[\w-]*:iam::\d{12}:oidc-provider\/(.+)$/.exec(providerArn);
    if (!match) throw new Error(`"${providerArn}" is not an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>)`);
    return match[1];
}

/** The bucket policy: refuse every request that does not come over TLS. */
export function tlsOnlyPolicy(bucketArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}
