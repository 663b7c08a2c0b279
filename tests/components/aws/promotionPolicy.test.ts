import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { accessPolicy, tlsOnlyPolicy } from "../../../components/aws/policies.ts";
import { apart, freePort, Moto } from "../../support/moto.ts";
import { bucketops } from "../../cli/helpers/cli.ts";
import { promotableTree } from "../../cli/helpers/environments.ts";
import { writeTree } from "../../support/trees.ts";
import { CrashingProxy } from "../../cli/helpers/proxy.ts";
import { type Authorization, type S3Request, authorizationsOf, decide } from "../../support/s3Authorization.ts";

// The promotion grant of accessPolicy (infra config promotions ["prod=staging"]), decided by an IAM evaluator (AWS's
// rules, the s3:prefix condition included) on every request `bucketops promote` sent to moto_server through a
// recording proxy. moto stands in for S3's API only; the decisions are IAM's.

const BUCKET = "promotions";
const ARN = `arn:aws:s3:::${BUCKET}`;
const BUCKET_POLICY = tlsOnlyPolicy(ARN);

const label = ({ operation, action, resource, context }: Authorization) =>
    `${operation} → ${action} on ${resource}${context["s3:prefix"] !== undefined ? ` (s3:prefix '${context["s3:prefix"]}')` : ""}`;

async function decisions(requests: S3Request[], policy: object): Promise<string[]> {
    const unique = [...new Map(requests.flatMap(authorizationsOf).map((a) => [label(a), a])).values()];
    return Promise.all(unique.map(async (a) => `${label(a)}: ${await decide(a, policy, BUCKET_POLICY)}`));
}
const notAllowed = (lines: string[]) => lines.filter((line) => !line.endsWith(": Allowed"));

describe("the promotion grant decided by IAM on the requests bucketops promote sends", () => {
    let moto: Moto;
    let proxy: CrashingProxy;
    let sent: S3Request[];

    before(async () => {
        moto = await Moto.start();
        await moto.createBucket(BUCKET);
        await moto.put(BUCKET, ".sourceignore", "*.md\n");
        proxy = await CrashingProxy.start(moto.endpoint, await freePort());
        const run = async (...args: string[]) => {
            const result = await bucketops(...args, "--endpoint", proxy.endpoint);
            assert.equal(result.code, 0, `${args.join(" ")}: ${result.err}`);
        };
        const stagingRoot = ["--root-path", "./staging/clusters/staging", "--substitute-prefix"];
        const prodRoot = ["--root-path", "./prod/clusters/prod", "--substitute-prefix"];
        await apart(() => run("push", writeTree(promotableTree("v1")), `s3://${BUCKET}/staging/`, ...stagingRoot));
        await apart(() => run("push", writeTree(promotableTree("v2")), `s3://${BUCKET}/staging/`, ...stagingRoot));
        const from = proxy.requests.length;
        // Into an empty prod, then an older release over it (copies, and a delete of what it does not hold).
        await apart(() => run("promote", `s3://${BUCKET}/staging/`, `s3://${BUCKET}/prod/`, ...prodRoot));
        await apart(() => run("promote", `s3://${BUCKET}/staging/`, `s3://${BUCKET}/prod/`, "--release", "1", ...prodRoot));
        sent = proxy.requests.slice(from);
    });
    after(() => {
        proxy?.close();
        moto?.stop();
    });

    it("recorded the promotion's reads of staging and its writes to prod", () => {
        const operations = new Set(sent.flatMap(authorizationsOf).map(({ operation }) => operation));
        for (const operation of ["ListObjectVersions", "GetObject", "CopyObject", "CopyObject (source)", "PutObject", "DeleteObject"]) {
            assert.ok(operations.has(operation), `no ${operation} among ${[...operations].join(", ")}`);
        }
        // Nothing it sent writes under staging/.
        const writes = sent.filter((request) => request.method !== "GET" && request.method !== "HEAD");
        assert.deepEqual(writes.filter((request) => request.url.startsWith(`/${BUCKET}/staging/`)), []);
    });

    it("prod's writer with the grant is allowed every request", async () => {
        assert.deepEqual(notAllowed(await decisions(sent, accessPolicy(ARN, "write", "prod/", ["staging/"]))), []);
    });

    it("without it, exactly the reads of staging are refused (its version listing, its records, the copies' sources)", async () => {
        const lines = await decisions(sent, accessPolicy(ARN, "write", "prod/"));
        const refused = notAllowed(lines);
        assert.ok(refused.length > 0);
        assert.deepEqual(
            refused.filter((line) => !(line.includes(`${ARN}/staging/`) || line.includes("(s3:prefix 'staging/"))),
            [],
        );
        assert.ok(refused.some((line) => line.startsWith("CopyObject (source) → s3:GetObjectVersion")));
        assert.ok(refused.some((line) => line.startsWith("ListObjectVersions → s3:ListBucketVersions")));
        assert.deepEqual(refused.filter((line) => !line.endsWith(": ImplicitlyDenied")), []);
    });

    it("the grant reads only: writes and deletes under staging stay refused to prod's writer", async () => {
        const writes: S3Request[] = [
            { method: "PUT", url: `/${BUCKET}/staging/apps/prod/settings.yaml`, headers: {} },
            { method: "PUT", url: `/${BUCKET}/staging/apps/prod/settings.yaml`, headers: { "x-amz-copy-source": `/${BUCKET}/prod/apps/prod/settings.yaml` } },
            { method: "DELETE", url: `/${BUCKET}/staging/apps/prod/settings.yaml`, headers: {} },
            { method: "DELETE", url: `/${BUCKET}/staging/apps/prod/settings.yaml?versionId=1`, headers: {} },
        ];
        const lines = await decisions(writes, accessPolicy(ARN, "write", "prod/", ["staging/"]));
        assert.deepEqual(
            lines.filter((line) => line.includes(`${ARN}/staging/`)).map((line) => line.split(": ").at(-1)),
            ["ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied"],
        );
    });
});
