import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BucketCredentials, FluxBucket, VersionedBucket } from "../../../components/aws/index.ts";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { only, runComponents, waitsFor, valueOf } from "../../support/offline.ts";

const BUCKET_ARN = "arn:aws:s3:::manifests";

describe("aws VersionedBucket", () => {
    let run: OfflineRun;
    before(async () => {
        run = await runComponents(() => {
            new VersionedBucket("store", { bucketName: "manifests", noncurrentVersionDays: 14, forceDestroy: true });
        });
    });
    const child = (type: string) => only(run, type, "store");

    test("is a component parenting every bucket resource", () => {
        const component = child("fluxbucket:aws:VersionedBucket");
        const children = run.resources.filter((resource) => resource.parent === component.urn).map((resource) => resource.type);
        assert.deepEqual(children.sort(), [
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketVersioning:BucketVersioning",
        ]);
    });

    test("configures the bucket one call at a time (S3 answers 409 OperationAborted to concurrent ones)", () => {
        const order = [
            "aws:s3/bucket:Bucket",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketVersioning:BucketVersioning",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "aws:s3/bucketPolicy:BucketPolicy",
        ];
        // Pulumi runs a resource's create only after everything it depends on: a chain leaves no two in flight.
        for (let i = 1; i < order.length; i++) {
            assert.ok(child(order[i]).dependencies.includes(child(order[i - 1]).urn), `${order[i]} waits for ${order[i - 1]}`);
        }
    });

    test("names the bucket and passes forceDestroy", () => {
        assert.equal(child("aws:s3/bucket:Bucket").inputs.bucket, "manifests");
        assert.equal(child("aws:s3/bucket:Bucket").inputs.forceDestroy, true);
    });

    test("turns versioning on", () => {
        assert.deepEqual(child("aws:s3/bucketVersioning:BucketVersioning").inputs, {
            bucket: "manifests",
            versioningConfiguration: { status: "Enabled" },
        });
    });

    test("blocks all public access and disables ACLs", () => {
        const block = child("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
        assert.deepEqual(block, { bucket: "manifests", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        assert.deepEqual(child("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
    });

    test("encrypts by default", () => {
        assert.deepEqual(child("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules, [
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ]);
    });

    test("denies every request without TLS", () => {
        const policy = child("aws:s3/bucketPolicy:BucketPolicy");
        assert.deepEqual(JSON.parse(policy.inputs.policy), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
            ],
        });
        assert.ok(waitsFor(run, policy, child("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")));
    });

    test("expires noncurrent versions after the configured days, once versioning is on", () => {
        const lifecycle = child("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
        assert.deepEqual(lifecycle.inputs.rules, [
            {
                id: "expire-noncurrent-versions",
                status: "Enabled",
                filter: {},
                noncurrentVersionExpiration: { noncurrentDays: 14 },
                expiration: { expiredObjectDeleteMarker: true },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            },
        ]);
        assert.ok(lifecycle.dependencies.includes(child("aws:s3/bucketVersioning:BucketVersioning").urn));
    });
});

describe("aws BucketCredentials", () => {
    let run: OfflineRun;
    let reader: BucketCredentials;
    before(async () => {
        run = await runComponents(() => {
            reader = new BucketCredentials("flux", { bucketArn: BUCKET_ARN, access: "read" });
            new BucketCredentials("uploader", { bucketArn: BUCKET_ARN, access: "write" });
        });
    });
    const policyOf = (name: string) => JSON.parse(only(run, "aws:iam/userPolicy:UserPolicy", name).inputs.policy);

    test("gives Flux exactly ListBucket on the bucket and GetObject on its objects", () => {
        assert.deepEqual(policyOf("flux"), {
            Version: "2012-10-17",
            Statement: [
                { Sid: "ListBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: BUCKET_ARN },
                { Sid: "Objects", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${BUCKET_ARN}/*` },
            ],
        });
    });

    test("lets the writer upload, delete, read versions and abort its multipart copies, but never delete a version", () => {
        assert.deepEqual(policyOf("uploader"), {
            Version: "2012-10-17",
            Statement: [
                { Sid: "ListBucket", Effect: "Allow", Action: ["s3:GetBucketVersioning", "s3:ListBucket", "s3:ListBucketVersions"], Resource: BUCKET_ARN },
                {
                    Sid: "Objects",
                    Effect: "Allow",
                    Action: ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                    Resource: `${BUCKET_ARN}/*`,
                },
            ],
        });
    });

    test("attaches the policy to its own user, and creates the key only after the policy", () => {
        const user = only(run, "aws:iam/user:User", "flux");
        const policy = only(run, "aws:iam/userPolicy:UserPolicy", "flux");
        const key = only(run, "aws:iam/accessKey:AccessKey", "flux");
        assert.equal(user.inputs.path, "/flux-bucket/");
        assert.equal(policy.inputs.user, key.inputs.user);
        assert.match(key.inputs.user, /^flux-[0-9a-f]{7}$/);
        assert.ok(key.dependencies.includes(policy.urn));
    });

    test("hands the secret access key on as a secret", async () => {
        assert.equal(await pulumi.isSecret(reader.secretAccessKey), true);
    });
});

describe("aws FluxBucket", () => {
    let run: OfflineRun;
    let bucket: FluxBucket;
    before(async () => {
        run = await runComponents(() => {
            const provider = new aws.Provider("eu", { region: "eu-central-1" });
            bucket = new FluxBucket("manifests", { noncurrentVersionDays: 30 }, { providers: [provider] });
        });
    });

    test("has a reader and a writer scoped to its bucket", () => {
        const component = only(run, "fluxbucket:aws:FluxBucket");
        const credentials = run.resources.filter((resource) => resource.type === "fluxbucket:aws:BucketCredentials");
        assert.deepEqual(credentials.map((resource) => resource.name).sort(), ["manifests-reader", "manifests-writer"]);
        assert.ok(credentials.every((resource) => resource.parent === component.urn));
    });

    test("points Flux at the regional S3 endpoint, without scheme", async () => {
        const endpoint = await valueOf(bucket.endpoint);
        assert.equal(endpoint, "s3.eu-central-1.amazonaws.com");
    });
});
