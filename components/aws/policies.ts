/** IAM policy documents for the bucket, as plain data so they can be checked, rendered and reused. */
import { SOURCEIGNORE_KEY } from "../environments.ts";

export type BucketAccess = "read" | "write";

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Principal?: "*";
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/**
 * What each identity may do. Flux's source-controller only lists the bucket and reads objects.
 * The writer (the `bucketops` CLI) also reads versions for history and rollback, but can never delete
 * a version: a delete only adds a delete marker, so nothing it does is irreversible.
 */
export const BUCKET_ACTIONS: Record<BucketAccess, { bucket: string[]; objects: string[] }> = {
    read: { bucket: ["s3:ListBucket"], objects: ["s3:GetObject"] },
    write: {
        bucket: ["s3:GetBucketVersioning", "s3:ListBucket", "s3:ListBucketVersions"],
        objects: ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
    },
};

/**
 * The identity's policy on the bucket. With a `prefix` (an environment), listing is limited by the `s3:prefix`
 * condition and objects to those under the prefix, plus the root `.sourceignore` that Flux always reads.
 */
export function accessPolicy(bucketArn: string, access: BucketAccess, prefix?: string): PolicyDocument {
    const actions = BUCKET_ACTIONS[access];
    if (prefix === undefined) {
        return {
            Version: "2012-10-17",
            Statement: [
                { Sid: "ListBucket", Effect: "Allow", Action: actions.bucket, Resource: bucketArn },
                { Sid: "Objects", Effect: "Allow", Action: actions.objects, Resource: `${bucketArn}/*` },
            ],
        };
    }
    const listing = actions.bucket.filter((action) => action.startsWith("s3:List"));
    const bucketWide = actions.bucket.filter((action) => !listing.includes(action));
    // The writer's `history` also reads the root .sourceignore's past versions, to compute past revisions.
    const writes = access === "write";
    return {
        Version: "2012-10-17",
        Statement: [
            ...(bucketWide.length > 0 ? [{ Sid: "Bucket", Effect: "Allow" as const, Action: bucketWide, Resource: bucketArn }] : []),
            {
                Sid: "ListPrefix",
                Effect: "Allow",
                Action: listing,
                Resource: bucketArn,
                Condition: { StringLike: { "s3:prefix": writes ? [`${prefix}*`, SOURCEIGNORE_KEY] : `${prefix}*` } },
            },
            { Sid: "Objects", Effect: "Allow", Action: actions.objects, Resource: `${bucketArn}/${prefix}*` },
            {
                Sid: "ReadSourceIgnore",
                Effect: "Allow",
                Action: writes ? ["s3:GetObject", "s3:GetObjectVersion"] : "s3:GetObject",
                Resource: `${bucketArn}/${SOURCEIGNORE_KEY}`,
            },
        ],
    };
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
