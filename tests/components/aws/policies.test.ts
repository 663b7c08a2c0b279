import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { accessPolicy, tlsOnlyPolicy } from "../../../components/aws/policies.ts";
import { apart, freePort, Moto } from "../../support/moto.ts";
import { bucketops, printedRevision } from "../../cli/helpers/cli.ts";
import { writeTree } from "../../support/trees.ts";
import { environmentTree } from "../../cli/helpers/environments.ts";
import { CrashingProxy } from "../../cli/helpers/proxy.ts";
import { fluxReconcileRequests } from "../../support/fluxBucketRequests.ts";
import { type Authorization, type S3Request, authorizationsOf, decide } from "../../support/s3Authorization.ts";

// The policies of components/aws/policies.ts, decided by an IAM evaluator (AWS's rules, conditions included) on
// the requests that really reach S3: source-controller's reconcile as its code sends it, and every request
// bucketops sent to moto_server through a recording proxy while it pushed, pruned, listed history, rolled back
// and computed a revision. moto stands in for S3's API only (it evaluates no conditions); the decisions are IAM's.

const BUCKET = "fleet";
const ARN = `arn:aws:s3:::${BUCKET}`;
const BUCKET_POLICY = tlsOnlyPolicy(ARN);
const DEV = { env: "dev", prefix: "dev/" };
const PROD = { env: "prod", prefix: "teams/a/prod/" };
type Environment = typeof DEV;

const label = ({ operation, action, resource, context }: Authorization) =>
    `${operation} → ${action} on ${resource}${context["s3:prefix"] !== undefined ? ` (s3:prefix '${context["s3:prefix"]}')` : ""}`;

/** Each authorization of the requests with IAM's decision, as lines, so a failure names every wrong one. */
async function decisions(requests: S3Request[], policy: object): Promise<string[]> {
    const authorizations = requests.flatMap(authorizationsOf);
    const unique = [...new Map(authorizations.map((a) => [label(a), a])).values()];
    return Promise.all(unique.map(async (a) => `${label(a)}: ${await decide(a, policy, BUCKET_POLICY)}`));
}
const allowedOnly = (lines: string[]) => lines.filter((line) => !line.endsWith(": Allowed"));

describe("aws policies decided by IAM on the requests Flux and bucketops send", () => {
    let moto: Moto;
    let proxy: CrashingProxy;
    /** Every request bucketops sent per environment, and the keys each environment holds in the end. */
    const sent = new Map<string, S3Request[]>();
    const keys = new Map<string, string[]>();

    before(async () => {
        moto = await Moto.start();
        await moto.createBucket(BUCKET);
        await moto.put(BUCKET, ".sourceignore", "*.md\n"); // the infra stack writes it for environments
        proxy = await CrashingProxy.start(moto.endpoint, await freePort());
        const run = async (...args: string[]) => {
            const result = await bucketops(...args, "--endpoint", proxy.endpoint);
            assert.equal(result.code, 0, `${args.join(" ")}: ${result.err}`);
            return result;
        };
        for (const { env, prefix } of [DEV, PROD]) {
            const url = `s3://${BUCKET}/${prefix}`;
            const first = environmentTree(env, prefix, "v1");
            const from = proxy.requests.length;
            const extra = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\n`;
            const pushed = await apart(() => run("push", writeTree({ ...first, "extra.yaml": extra("extra"), "extra2.yaml": extra("extra2") }), url));
            // Modifies one object and prunes two (DeleteObjects); each push and the rollback take and release the
            // prefix's lease (ListObjectsV2, GetObject, PutObject, DeleteObject).
            await apart(() => run("push", writeTree(environmentTree(env, prefix, "v2")), url));
            await run("history", url);
            await apart(() => run("rollback", url, "--to", printedRevision(pushed)));
            // Takes back extra.yaml as if it had leaked: every version and delete marker of it (DeleteObject with versionId).
            await apart(() => run("purge", url, "extra.yaml", "--yes"));
            await run("revision", url);
            sent.set(env, proxy.requests.slice(from));
            keys.set(env, Object.keys(await moto.contents(BUCKET)).filter((key) => key.startsWith(prefix)));
        }
    });
    after(() => {
        proxy?.close();
        moto?.stop();
    });

    it("bucketops sent every kind of request these commands need (the recording is complete)", () => {
        const operations = new Set([...sent.values()].flat().flatMap(authorizationsOf).map(({ operation }) => operation));
        for (const operation of ["ListObjectsV2", "GetObject", "PutObject", "DeleteObject", "DeleteObjects", "GetBucketVersioning", "ListObjectVersions", "CopyObject", "CopyObject (source)"]) {
            assert.ok(operations.has(operation), `no ${operation} among ${[...operations].join(", ")}`);
        }
        const actions = new Set([...sent.values()].flat().flatMap(authorizationsOf).map(({ action }) => action));
        assert.ok(actions.has("s3:DeleteObjectVersion"), "purge's deletes of versions were recorded");
    });

    for (const own of [DEV, PROD]) {
        const other: Environment = own === DEV ? PROD : DEV;

        it(`${own.env}: Flux's reader is allowed its whole reconcile (HeadBucket, the root .sourceignore, listing, every object)`, async () => {
            const reconcile = fluxReconcileRequests(BUCKET, own.prefix, keys.get(own.env)!);
            assert.deepEqual(allowedOnly(await decisions(reconcile, accessPolicy(ARN, "read", own.prefix))), []);
        });

        it(`${own.env}: Flux's reader may list key names of ${other.env} but read none of its objects`, async () => {
            const reconcile = fluxReconcileRequests(BUCKET, other.prefix, keys.get(other.env)!);
            const lines = await decisions(reconcile, accessPolicy(ARN, "read", own.prefix));
            const objectReads = lines.filter((line) => line.includes(`on ${ARN}/${other.prefix}`));
            assert.ok(objectReads.length > 0);
            assert.deepEqual(allowedOnly(objectReads), objectReads);
            assert.deepEqual(allowedOnly(lines.filter((line) => !objectReads.includes(line))), []); // HeadBucket, listing, root .sourceignore
        });

        it(`${own.env}: the writer is allowed every request bucketops sent for push, prune, history, rollback and revision`, async () => {
            assert.deepEqual(allowedOnly(await decisions(sent.get(own.env)!, accessPolicy(ARN, "write", own.prefix))), []);
            // Its release records among them: each environment's writer records its own pushes and rollbacks.
            assert.ok(sent.get(own.env)!.some((request) => request.method === "PUT" && request.url.startsWith(`/${BUCKET}/${own.prefix}.bucketops-release`)));
        });

        it(`${own.env}: the writer is refused ${other.env}'s objects and version listings, all of what bucketops sent there`, async () => {
            const lines = await decisions(sent.get(other.env)!, accessPolicy(ARN, "write", own.prefix));
            // Shared by every environment: key listing, the versioning setting, and the root .sourceignore (and its versions).
            const bucketWide = lines.filter((line) => /→ s3:(ListBucket|GetBucketVersioning) /.test(line) || line.includes(".sourceignore"));
            assert.deepEqual(allowedOnly(bucketWide), []);
            const refused = lines.filter((line) => !bucketWide.includes(line));
            assert.ok(refused.some((line) => line.startsWith("PutObject")) && refused.some((line) => line.startsWith("DeleteObjects")));
            assert.deepEqual(refused.filter((line) => !line.endsWith(": ImplicitlyDenied")), []);
        });
    }

    it("the whole-bucket reader and writer are allowed all of it, under any prefix", async () => {
        const everything = [...keys.values()].flat();
        assert.deepEqual(allowedOnly(await decisions(fluxReconcileRequests(BUCKET, "", everything), accessPolicy(ARN, "read"))), []);
        assert.deepEqual(allowedOnly(await decisions([...sent.values()].flat(), accessPolicy(ARN, "write"))), []);
    });

    it("only a writer may delete an object version (purge), of its own objects: readers never, nor another environment's or the root .sourceignore", async () => {
        const deleteVersion = (key: string): S3Request[] => [
            { method: "DELETE", url: `/${BUCKET}/${key}?versionId=v1`, headers: {} },
            { method: "POST", url: `/${BUCKET}/?delete`, headers: {}, body: `<Delete><Object><Key>${key}</Key><VersionId>v1</VersionId></Object></Delete>` },
        ];
        const decided = async (key: string, access: "read" | "write", prefix?: string) =>
            (await decisions(deleteVersion(key), accessPolicy(ARN, access, prefix))).map((line) => line.split(": ").at(-1));
        const own = "dev/apps/dev/settings.yaml";
        assert.deepEqual(await decided(own, "write", DEV.prefix), ["Allowed", "Allowed"]);
        assert.deepEqual(await decided(own, "write"), ["Allowed", "Allowed"]);
        for (const prefix of [DEV.prefix, undefined]) assert.deepEqual(await decided(own, "read", prefix), ["ImplicitlyDenied", "ImplicitlyDenied"], `reader ${prefix ?? "(whole bucket)"}`);
        assert.deepEqual(await decided(`${PROD.prefix}apps/prod/settings.yaml`, "write", DEV.prefix), ["ImplicitlyDenied", "ImplicitlyDenied"]);
        assert.deepEqual(await decided(".sourceignore", "write", DEV.prefix), ["ImplicitlyDenied", "ImplicitlyDenied"]);
    });

    it("the bucket policy refuses plain HTTP to every identity", async () => {
        const [get] = authorizationsOf({ method: "GET", url: `/${BUCKET}/dev/a.yaml`, headers: {} });
        assert.equal(await decide(get, accessPolicy(ARN, "write"), BUCKET_POLICY), "Allowed");
        assert.equal(await decide({ ...get, context: { "aws:SecureTransport": "false" } }, accessPolicy(ARN, "write"), BUCKET_POLICY), "ExplicitlyDenied");
    });

    it("why listing is bucket-wide: HeadBucket carries no s3:prefix, so a prefix-conditioned s3:ListBucket refuses it", async () => {
        const [headBucket] = authorizationsOf({ method: "HEAD", url: `/${BUCKET}/`, headers: {} });
        const conditioned = {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:ListBucket", Resource: ARN, Condition: { StringLike: { "s3:prefix": "dev/*" } } }],
        };
        assert.equal(await decide(headBucket, conditioned, BUCKET_POLICY), "ImplicitlyDenied");
        assert.equal(await decide(headBucket, accessPolicy(ARN, "read", DEV.prefix), BUCKET_POLICY), "Allowed");
    });
});
