import { runSimulation, type EvaluationResult } from "@cloud-copilot/iam-simulate";

/**
 * What S3 authorizes for an HTTP request, and AWS's decision on it, so that policies are tested on the requests
 * Flux and bucketops really send. The mapping is AWS's: "Actions, resources, and condition keys for Amazon S3"
 * (Service Authorization Reference, its table of API operations → IAM actions) and "Required permissions for
 * Amazon S3 API operations" (S3 User Guide). The decisions are those of @cloud-copilot/iam-simulate, which
 * implements IAM's evaluation logic (identity and resource policies, every condition operator).
 */

/** An HTTP request to a path-style S3 endpoint, as a proxy in front of moto_server records it. */
export interface S3Request {
    method: string;
    /** Path and query, e.g. `/bucket/dev/a.yaml?versionId=…`. */
    url: string;
    headers: Record<string, string | string[] | undefined>;
    body?: string;
}

/** One authorization S3 makes for a request: a request may need several (CopyObject: read the source, write the target). */
export interface Authorization {
    operation: string;
    action: string;
    resource: string;
    context: Record<string, string>;
}

/** Context keys every request to a real S3 endpoint carries here: TLS (Flux and bucketops talk HTTPS to AWS). */
const GLOBAL_CONTEXT = { "aws:SecureTransport": "true" };

const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

/** The authorizations S3 makes for one request (HeadBucket, ListObjectsV2, GetObject, CopyObject, DeleteObjects, …). */
export function authorizationsOf(request: S3Request): Authorization[] {
    const url = new URL(request.url, "http://s3");
    const [, bucket, ...keyParts] = url.pathname.split("/");
    const key = decodeURIComponent(keyParts.join("/"));
    const query = url.searchParams;
    const bucketArn = `arn:aws:s3:::${bucket}`;
    const method = request.method.toUpperCase();
    const one = (operation: string, action: string, resource: string, context: Record<string, string> = {}): Authorization[] => [
        { operation, action, resource, context: { ...GLOBAL_CONTEXT, ...context } },
    ];
    // s3:prefix, s3:delimiter and s3:max-keys are set only when the request has the parameter (AWS: a condition on
    // a missing key is false, which is why HeadBucket fails a policy that conditions s3:ListBucket on s3:prefix).
    const listContext = () =>
        Object.fromEntries(
            (["prefix", "delimiter", "max-keys"] as const).filter((name) => query.has(name)).map((name) => [`s3:${name}`, query.get(name)!]),
        );

    if (key === "") {
        if (method === "HEAD") return one("HeadBucket", "s3:ListBucket", bucketArn);
        if (method === "GET" && query.has("versioning")) return one("GetBucketVersioning", "s3:GetBucketVersioning", bucketArn);
        if (method === "GET" && query.has("versions")) return one("ListObjectVersions", "s3:ListBucketVersions", bucketArn, listContext());
        if (method === "GET") return one(query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects", "s3:ListBucket", bucketArn, listContext());
        if (method === "POST" && query.has("delete")) {
            // DeleteObjects is authorized per key: s3:DeleteObject, or s3:DeleteObjectVersion for a key given with a version.
            const objects = [...(request.body ?? "").matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map(([, inner]) => ({
                key: decodeXml(/<Key>([\s\S]*?)<\/Key>/.exec(inner)![1]),
                versionId: /<VersionId>([\s\S]*?)<\/VersionId>/.exec(inner)?.[1],
            }));
            return objects.flatMap(({ key: deleted, versionId }) =>
                versionId
                    ? one("DeleteObjects", "s3:DeleteObjectVersion", objectArn(bucket, deleted), { "s3:versionid": versionId })
                    : one("DeleteObjects", "s3:DeleteObject", objectArn(bucket, deleted)),
            );
        }
        throw new Error(`no S3 authorization known for ${method} ${request.url}`);
    }

    const target = objectArn(bucket, key);
    const versionId = query.get("versionId");
    const read = (operation: string, resource: string, version: string | null) =>
        version ? one(operation, "s3:GetObjectVersion", resource, { "s3:versionid": version }) : one(operation, "s3:GetObject", resource);
    const copySource = header(request, "x-amz-copy-source");
    const copied = () => {
        const source = new URL(`/${decodeURIComponent(copySource!.replace(/^\//, "").split("?")[0])}`, "http://s3");
        const sourceVersion = new URL(`http://s3/?${copySource!.split("?")[1] ?? ""}`).searchParams.get("versionId");
        return read("CopyObject (source)", `arn:aws:s3:::${source.pathname.slice(1)}`, sourceVersion);
    };

    if (method === "GET" || method === "HEAD") return read(method === "GET" ? "GetObject" : "HeadObject", target, versionId);
    if (method === "PUT" && query.has("uploadId")) {
        return [...one(copySource ? "UploadPartCopy" : "UploadPart", "s3:PutObject", target), ...(copySource ? copied() : [])];
    }
    if (method === "PUT") return [...one(copySource ? "CopyObject" : "PutObject", "s3:PutObject", target), ...(copySource ? copied() : [])];
    if (method === "POST" && query.has("uploads")) return one("CreateMultipartUpload", "s3:PutObject", target);
    if (method === "POST" && query.has("uploadId")) return one("CompleteMultipartUpload", "s3:PutObject", target);
    if (method === "DELETE" && query.has("uploadId")) return one("AbortMultipartUpload", "s3:AbortMultipartUpload", target);
    if (method === "DELETE") return versionId ? one("DeleteObject", "s3:DeleteObjectVersion", target, { "s3:versionid": versionId }) : one("DeleteObject", "s3:DeleteObject", target);
    throw new Error(`no S3 authorization known for ${method} ${request.url}`);
}

function header(request: S3Request, name: string): string | undefined {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
}

function decodeXml(text: string): string {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

const ACCOUNT = "123456789012";

/** AWS's decision on one authorization, for an IAM user with `identityPolicy` on a bucket with `bucketPolicy`. */
export async function decide(authorization: Authorization, identityPolicy: object, bucketPolicy?: object): Promise<EvaluationResult> {
    const result = await runSimulation(
        {
            identityPolicies: [{ name: "identity", policy: identityPolicy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: bucketPolicy,
            request: {
                action: authorization.action,
                principal: `arn:aws:iam::${ACCOUNT}:user/flux-bucket/identity`,
                resource: { accountId: ACCOUNT, resource: authorization.resource },
                contextVariables: authorization.context,
            },
        },
        {},
    );
    if (result.resultType === "error") throw new Error(`simulation of ${authorization.action} failed: ${JSON.stringify(result.errors)}`);
    return result.overallResult;
}
