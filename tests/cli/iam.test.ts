import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { accessPolicy } from "../../components/aws/policies.ts";
import { bucketops, printedRevision, states, type Run } from "./helpers/cli.ts";
import { writeTree } from "../support/trees.ts";
import { environmentRevision, environmentTree, promotableTree } from "./helpers/environments.ts";
import { apart, Moto, type AccessKey } from "../support/moto.ts";

const BUCKET = "shared";
const ARN = `arn:aws:s3:::${BUCKET}`;
const DEV = { env: "dev", prefix: "dev/", url: `s3://${BUCKET}/dev/` };
const PROD = { env: "prod", prefix: "teams/a/prod/", url: `s3://${BUCKET}/teams/a/prod/` };
const QA = { env: "qa", prefix: "qa/", url: `s3://${BUCKET}/qa/` };
const LIVE = { env: "live", prefix: "live/", url: `s3://${BUCKET}/live/` };

/**
 * The prefix-scoped policies of components/aws/policies.ts on moto_server with IAM enforced. moto evaluates
 * each statement's Action and Resource (object ARNs), but not the `s3:prefix` condition of the listing
 * statement (moto 5.2.1 supports no StringLike condition and ignores it): listings are not restricted here.
 */
describe("per-environment identities (accessPolicy) against moto_server with IAM enforced", () => {
    let moto: Moto;
    let keys: Record<"devWriter" | "devReader" | "prodWriter" | "qaWriter" | "liveWriter" | "livePromoter", AccessKey>;
    let dir: string;
    before(async () => {
        moto = await Moto.start({ iam: true });
        await moto.createBucket(BUCKET);
        await moto.put(BUCKET, ".sourceignore", "*.md\n");
        keys = {
            devWriter: await moto.createUser("dev-writer", accessPolicy(ARN, "write", DEV.prefix)),
            devReader: await moto.createUser("dev-reader", accessPolicy(ARN, "read", DEV.prefix)),
            prodWriter: await moto.createUser("prod-writer", accessPolicy(ARN, "write", PROD.prefix)),
            // Two more environments for promotion; live's writer as the infra stack makes it with promotions ["live=qa"], and without.
            qaWriter: await moto.createUser("qa-writer", accessPolicy(ARN, "write", QA.prefix)),
            liveWriter: await moto.createUser("live-writer", accessPolicy(ARN, "write", LIVE.prefix)),
            livePromoter: await moto.createUser("live-promoter", accessPolicy(ARN, "write", LIVE.prefix, [QA.prefix])),
        };
        await moto.enforceIam();
        dir = writeTree({});
    });
    after(() => moto?.stop());

    /** bucketops with the environments' credentials taken from infra stack outputs. */
    function withOutputs(name: string, environments: Record<string, object>) {
        const file = path.join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify({ provider: "aws", endpoint: moto.endpoint, region: "us-east-1", environments }));
        return (...args: string[]) => bucketops(...args, "--from-stack-outputs", file);
    }
    /** bucketops with one identity's keys through the AWS SDK's default chain (no stack outputs). */
    async function as(key: AccessKey, ...args: string[]): Promise<Run> {
        const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
        process.env.AWS_ACCESS_KEY_ID = key.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = key.secretAccessKey;
        try {
            return await bucketops(...args, "--endpoint", moto.endpoint);
        } finally {
            process.env.AWS_ACCESS_KEY_ID = saved.id;
            process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
        }
    }
    const denied = (what: string, hint: string) =>
        `access denied: s3://${BUCKET} at ${moto.endpoint} does not allow these credentials to ${what} (AccessDenied: Access Denied). ${hint}`;
    /** The hint for keys from the AWS SDK's chain, and for an environment's keys from the stack outputs. */
    const fromChain =
        "The credentials came from the AWS SDK's chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, the instance's role): check which " +
        "identity that is and what its policy allows, or pass --from-stack-outputs with the infra stack's outputs.";
    const fromOutputs = (target: typeof DEV) =>
        `These are environment ${target.env}'s credentials from the stack outputs, which may only use keys under ` +
        `${target.prefix} and read the root .sourceignore: check the URL's prefix.`;

    it("a writer pushes, lists history and rolls back under its prefix, and cannot write under another", async () => {
        const trees = {
            dev: [environmentTree("dev", DEV.prefix, "v1"), environmentTree("dev", DEV.prefix, "v2")],
            prod: [environmentTree("prod", PROD.prefix, "v1"), environmentTree("prod", PROD.prefix, "v2")],
        };
        const both = withOutputs("both", {
            dev: { prefix: DEV.prefix, writerAccessKeyId: keys.devWriter.accessKeyId, writerSecretAccessKey: keys.devWriter.secretAccessKey },
            prod: { prefix: PROD.prefix, writerAccessKeyId: keys.prodWriter.accessKeyId, writerSecretAccessKey: keys.prodWriter.secretAccessKey },
        });
        // Each push uses the writer of the environment whose prefix holds the URL's.
        for (const i of [0, 1]) {
            await apart(async () => {
                for (const [target, tree] of [[DEV, trees.dev[i]], [PROD, trees.prod[i]]] as const) {
                    const pushed = await both("push", writeTree(tree), target.url);
                    assert.equal(pushed.code, 0, pushed.err);
                    assert.equal(printedRevision(pushed), environmentRevision(target.env, target.prefix, tree));
                }
            });
        }

        // history under its own prefix: the writer may list and read the root .sourceignore's versions too, so
        // every state's revision uses the ignore rules of its time, with no fallback note.
        const history = await as(keys.devWriter, "history", DEV.url, "--json");
        assert.equal(history.err, "");
        assert.deepEqual(
            states(history).map((state) => state.revision),
            trees.dev.map((tree) => environmentRevision("dev", DEV.prefix, tree)),
        );

        const prodVersions = await moto.versions(BUCKET, PROD.prefix);
        const v1 = environmentRevision("dev", DEV.prefix, trees.dev[0]);
        const rolled = await as(keys.devWriter, "rollback", DEV.url, "--to", v1);
        assert.equal(rolled.code, 0, rolled.err);
        assert.match(rolled.out, new RegExp(`^rolled back: Flux revision ${v1}$`, "m"));

        // Under the other environment's prefix every write is refused by the server: nothing changes.
        const devVersions = await moto.versions(BUCKET, DEV.prefix);
        const pushed = await as(keys.devWriter, "push", writeTree(environmentTree("prod", PROD.prefix, "v3")), PROD.url, "--concurrency", "1");
        assert.equal(pushed.code, 1);
        assert.equal(
            pushed.err,
            `bucketops: ${denied(`write ${PROD.prefix}.bucketops-lock`, fromChain)}\n` +
                "push did not start: it could not take the prefix's lease, and nothing was changed.",
        );
        const back = await as(keys.devWriter, "rollback", PROD.url, "--to", environmentRevision("prod", PROD.prefix, trees.prod[0]), "--concurrency", "1");
        assert.equal(back.code, 1);
        assert.equal(
            back.err,
            `bucketops: ${denied(`write ${PROD.prefix}.bucketops-lock`, fromChain)}\nrollback did not start: it could not take the prefix's lease, and nothing was changed.`,
        );
        assert.deepEqual(await moto.versions(BUCKET, PROD.prefix), prodVersions);
        assert.deepEqual(await moto.versions(BUCKET, DEV.prefix), devVersions);

        // With stack outputs the CLI does not even try: the URL's prefix is in none of the listed environments.
        const devOnly = withOutputs("dev-only", { dev: { prefix: DEV.prefix, writerAccessKeyId: keys.devWriter.accessKeyId, writerSecretAccessKey: keys.devWriter.secretAccessKey } });
        const outside = await devOnly("push", writeTree(trees.dev[0]), PROD.url);
        assert.equal(outside.code, 2);
        assert.equal(
            outside.err,
            `bucketops: the stack outputs hold credentials per environment; prefix '${PROD.prefix}' is in none of: dev (dev/). ` +
                "Name an environment's prefix in the URL (s3://<bucket>/<prefix>)",
        );

        // Not proven on moto: listing another prefix's versions. AWS refuses ListBucketVersions outside the s3:prefix
        // condition (tests/components/aws/policies.test.ts); moto ignores conditions, so the dev writer can list here.
        const otherHistory = await as(keys.devWriter, "history", PROD.url, "--json");
        assert.equal(otherHistory.code, 0, otherHistory.err);
    });

    it("a reader computes its prefix's revision with the root .sourceignore, and may neither write nor read other objects", async () => {
        const reader = withOutputs("reader", {
            dev: { prefix: DEV.prefix, readerAccessKeyId: keys.devReader.accessKeyId, readerSecretAccessKey: keys.devReader.secretAccessKey },
        });
        const devTree = environmentTree("dev", DEV.prefix, "v1"); // the state the first test rolled back to
        const revision = await reader("revision", DEV.url);
        assert.equal(revision.code, 0, revision.err);
        assert.equal(revision.out, environmentRevision("dev", DEV.prefix, devTree)); // README.md left out: the root .sourceignore was read

        const push = await reader("push", writeTree(devTree), DEV.url, "--no-prune");
        assert.equal(push.code, 0, push.err); // nothing to upload: the tree is what is there
        const changed = await reader("push", writeTree({ ...devTree, "README.md": "# changed\n" }), DEV.url);
        assert.equal(changed.code, 1);
        assert.equal(
            changed.err,
            `bucketops: ${denied(`write ${DEV.prefix}.bucketops-lock`, fromOutputs(DEV))}\npush did not start: it could not take the prefix's lease, and nothing was changed.`,
        );
        const history = await reader("history", DEV.url);
        assert.equal(history.code, 1);
        assert.equal(history.err, `bucketops: ${denied("read the bucket's versioning setting", fromOutputs(DEV))}`);

        // What Flux does with these credentials: get the root .sourceignore and the prefix's objects, nothing else.
        const flux = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: "us-east-1", credentials: keys.devReader });
        try {
            const get = (key: string) => flux.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).then((out) => out.Body!.transformToString());
            assert.equal(await get(".sourceignore"), "*.md\n");
            assert.equal(await get(`${DEV.prefix}apps/dev/settings.yaml`), devTree["apps/dev/settings.yaml"]);
            await assert.rejects(get(`${PROD.prefix}apps/prod/settings.yaml`), { name: "AccessDenied" });
            await assert.rejects(get(`${DEV.prefix}missing.yaml`), { name: "NoSuchKey" });
            await assert.rejects(get("elsewhere.yaml"), { name: "AccessDenied" });
        } finally {
            flux.destroy();
        }

        // Key names and etags are visible to every identity of the bucket (s3:ListBucket is bucket-wide, as Flux's
        // HeadBucket needs), so this reader computes the other prefix's revision, on AWS too; its contents stay unreadable.
        const other = await as(keys.devReader, "revision", PROD.url);
        assert.equal(other.code, 0, other.err);
    });

    it("keyless outputs (auth workload-identity): the SDK's chain signs, and a denial names the CI identities, not stack keys", async () => {
        // What `pulumi stack output --json` prints for a keyless infra stack with environments and GitHub Actions: no key.
        const role = (name: string) => `arn:aws:iam::123456789012:role/flux-bucket/${name}`;
        const file = path.join(dir, "keyless.json");
        writeFileSync(
            file,
            JSON.stringify({
                provider: "aws",
                auth: "workload-identity",
                endpoint: moto.endpoint,
                region: "us-east-1",
                environments: {
                    dev: { prefix: DEV.prefix, readerRoleArn: role("dev-reader"), readerKubernetesServiceAccount: "flux-system/flux-bucket-dev", ciWriterRoleArn: role("dev-ci-writer"), ciReaderRoleArn: role("dev-ci-reader") },
                },
            }),
        );
        // In a GitHub Actions job, aws-actions/configure-aws-credentials puts the assumed CI role's session in the environment;
        // here the dev writer's key stands for it.
        const tree = writeTree(environmentTree("dev", DEV.prefix, "keyless"));
        const pushed = await as(keys.devWriter, "push", tree, DEV.url, "--from-stack-outputs", file);
        assert.equal(pushed.code, 0, pushed.err);
        assert.equal(printedRevision(pushed), environmentRevision("dev", DEV.prefix, environmentTree("dev", DEV.prefix, "keyless")));

        const versions = await moto.versions(BUCKET, DEV.prefix);
        const refused = await as(keys.prodWriter, "push", writeTree(environmentTree("dev", DEV.prefix, "other")), DEV.url, "--from-stack-outputs", file, "--concurrency", "1");
        assert.equal(refused.code, 1);
        assert.equal(
            refused.err,
            `bucketops: ${denied(
                `write ${DEV.prefix}.bucketops-lock`,
                "The credentials came from the AWS SDK's chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, the instance's role): check which identity that is and " +
                    `what its policy allows. The stack outputs hold no keys for environment dev: in GitHub Actions, pushes write as ${role("dev-ci-writer")} ` +
                    `and pull requests read as ${role("dev-ci-reader")}.`,
            )}\npush did not start: it could not take the prefix's lease, and nothing was changed.`,
        );
        assert.deepEqual(await moto.versions(BUCKET, DEV.prefix), versions);
    });
    it("a writer purges a key under its prefix (s3:DeleteObjectVersion); a reader may not purge, nor a writer another prefix's key", async () => {
        const tree = writeTree({ ...environmentTree("dev", DEV.prefix, "keyless"), "leak.env": "TOKEN=leaked\n" });
        const pushed = await apart(() => as(keys.devWriter, "push", tree, DEV.url));
        assert.equal(pushed.code, 0, pushed.err);
        const leaked = `${DEV.prefix}leak.env`;
        const before = await moto.versions(BUCKET, "");

        const reader = withOutputs("purge-reader", {
            dev: { prefix: DEV.prefix, readerAccessKeyId: keys.devReader.accessKeyId, readerSecretAccessKey: keys.devReader.secretAccessKey },
        });
        const refused = await reader("purge", DEV.url, "leak.env", "--yes");
        assert.equal(refused.code, 1);
        assert.equal(refused.err, `bucketops: ${denied("read the bucket's versioning setting", fromOutputs(DEV))}`);
        const elsewhere = await as(keys.prodWriter, "purge", DEV.url, "leak.env", "--yes");
        assert.equal(elsewhere.code, 1);
        assert.match(elsewhere.err, /does not allow these credentials to (list the versions under 'dev\/leak\.env'|write dev\/\.bucketops-lock)/);
        assert.deepEqual(await moto.versions(BUCKET, ""), before);

        const purged = await apart(() => as(keys.devWriter, "purge", DEV.url, "leak.env", "--yes"));
        assert.equal(purged.code, 0, purged.err);
        assert.deepEqual((await moto.versions(BUCKET, leaked)).filter((line) => line.startsWith(`${leaked} `)), []);
    });

    it("promote: live's writer with the promotion grant copies qa's release; without it, the first read of qa is refused and nothing changes", async () => {
        const tree = promotableTree("promoted");
        const qaRoot = ["--root-path", `./${QA.prefix}clusters/staging`, "--substitute-prefix"];
        await apart(async () => {
            const pushed = await as(keys.qaWriter, "push", writeTree(tree), QA.url, ...qaRoot);
            assert.equal(pushed.code, 0, pushed.err);
        });
        const liveRoot = ["--root-path", `./${LIVE.prefix}clusters/prod`, "--substitute-prefix"];
        const outputs = (writer: AccessKey) => ({
            qa: { prefix: QA.prefix, writerAccessKeyId: keys.qaWriter.accessKeyId, writerSecretAccessKey: keys.qaWriter.secretAccessKey },
            live: { prefix: LIVE.prefix, writerAccessKeyId: writer.accessKeyId, writerSecretAccessKey: writer.secretAccessKey },
        });
        // The stack outputs give both stores live's credentials (the environment promoted to), whatever the source URL.
        const refused = await withOutputs("no-grant", outputs(keys.liveWriter))("promote", QA.url, LIVE.url, ...liveRoot);
        assert.equal(refused.code, 1);
        assert.equal(
            refused.err,
            `bucketops: ${denied(
                `read ${QA.prefix}.bucketops-release`,
                "These are environment live's credentials from the stack outputs (the environment promoted to), which may read " +
                    "another environment's keys only where the infra stack's promotions allow it (live=<environment>).",
            )}`,
        );
        assert.deepEqual(await moto.versions(BUCKET, LIVE.prefix), []);

        const promoted = await withOutputs("grant", outputs(keys.livePromoter))("promote", QA.url, LIVE.url, ...liveRoot);
        assert.equal(promoted.code, 0, promoted.err);
        const live = await moto.contents(BUCKET, LIVE.prefix);
        assert.deepEqual(Object.fromEntries(Object.entries(live).map(([key, body]) => [key.slice(LIVE.prefix.length), body])), tree);
        // The grant only reads: the promoter is refused qa's keys for writing, as live's writer is.
        const write = await as(keys.livePromoter, "push", writeTree(promotableTree("again")), QA.url, ...qaRoot);
        assert.equal(write.code, 1);
        assert.match(write.err, /does not allow these credentials to write qa\/\.bucketops-lock/);
    });
});
