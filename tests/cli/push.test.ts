import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { S3Store } from "../../src/cli/store/s3.ts";
import { parseBucketUrl } from "../../src/cli/url.ts";
import { bucketops, md5, printedRevision, revisionOf, sha256 } from "./helpers/cli.ts";
import { manifestTree, prefixed, writeTree } from "../support/trees.ts";
import { freePort, Moto } from "../support/moto.ts";

describe("bucketops push against moto_server", () => {
    let moto: Moto;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("pushes");
    });
    after(() => moto?.stop());

    it("uploads a tree, skips unchanged files, prunes removed ones and prints Flux's revision", async () => {
        const v1 = manifestTree(["one", "two", "three"], "v1");
        const dir = writeTree(v1);
        const first = await bucketops("push", dir, "s3://pushes/envs/dev", "--endpoint", moto.endpoint);
        assert.equal(first.code, 0, first.err);
        assert.match(first.out, /4 to upload \(4 new, 0 changed\), 0 unchanged, 0 to delete/);
        assert.deepEqual(await moto.contents("pushes"), prefixed("envs/dev/", v1));
        assert.equal(printedRevision(first), revisionOf(prefixed("envs/dev/", v1)));

        const again = await bucketops("push", dir, "s3://pushes/envs/dev/", "--endpoint", moto.endpoint);
        assert.equal(again.code, 0, again.err);
        assert.match(again.out, /0 to upload \(0 new, 0 changed\), 4 unchanged, 0 to delete/);

        const v2 = manifestTree(["one", "two", "four"], "v2");
        v2["two.yaml"] = v1["two.yaml"];
        writeTree(v2, dir);
        const second = await bucketops("push", dir, "s3://pushes/envs/dev", "--endpoint", moto.endpoint);
        assert.equal(second.code, 0, second.err);
        assert.match(second.out, /3 to upload \(1 new, 2 changed\), 1 unchanged, 1 to delete/);
        assert.match(second.out, /^ {2}- envs\/dev\/three\.yaml$/m);
        assert.deepEqual(await moto.contents("pushes"), prefixed("envs/dev/", v2));
        assert.equal(printedRevision(second), revisionOf(prefixed("envs/dev/", v2)));

        const revision = await bucketops("revision", "s3://pushes/envs/dev/", "--endpoint", moto.endpoint);
        assert.equal(revision.out, printedRevision(second));
        // spec.ignore: the last matching pattern wins, matched against full keys.
        const ignoring = await bucketops("revision", "s3://pushes/envs/dev/", "--endpoint", moto.endpoint, "--ignore", "*.yaml", "--ignore", "!/envs/dev/kustomization.yaml");
        const kustomization = `envs/dev/kustomization.yaml`;
        assert.equal(ignoring.out, sha256(`${kustomization} ${md5(v2["kustomization.yaml"])}\n`));
    });

    it("keeps removed files with --no-prune and changes nothing with --dry-run", async () => {
        const dir = writeTree(manifestTree(["a", "b"], "v1"));
        assert.equal((await bucketops("push", dir, "s3://pushes/keep", "--endpoint", moto.endpoint)).code, 0);
        const before = await moto.contents("pushes", "keep/");

        writeTree(manifestTree(["a"], "v2"), dir);
        const dry = await bucketops("push", dir, "s3://pushes/keep", "--endpoint", moto.endpoint, "--dry-run");
        assert.equal(dry.code, 0, dry.err);
        assert.match(dry.out, /2 to upload \(0 new, 2 changed\), 0 unchanged, 1 to delete/);
        assert.match(dry.out, /dry run: nothing was changed/);
        assert.deepEqual(await moto.contents("pushes", "keep/"), before);

        const kept = await bucketops("push", dir, "s3://pushes/keep", "--endpoint", moto.endpoint, "--no-prune");
        assert.equal(kept.code, 0, kept.err);
        const after = await moto.contents("pushes", "keep/");
        assert.deepEqual(Object.keys(after).sort(), ["keep/a.yaml", "keep/b.yaml", "keep/kustomization.yaml"]);
        assert.equal(after["keep/b.yaml"], before["keep/b.yaml"]);
        assert.match(after["keep/a.yaml"], /a-v2/);
    });

    it("rejects an invalid tree before uploading anything", async () => {
        const tree = manifestTree(["good"], "v1");
        tree["broken.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [\n";
        const run = await bucketops("push", writeTree(tree), "s3://pushes/invalid", "--endpoint", moto.endpoint);
        assert.equal(run.code, 1);
        assert.match(run.err, /nothing was uploaded/);
        assert.match(run.err, /broken\.yaml/);
        assert.deepEqual(await moto.contents("pushes", "invalid/"), {});
    });

    it("detects a concurrent writer, aborts with exit 4 and deletes nothing", async () => {
        const dir = writeTree(manifestTree(["a", "b"], "v1"));
        assert.equal((await bucketops("push", dir, "s3://pushes/race", "--endpoint", moto.endpoint)).code, 0);
        writeTree(manifestTree(["a"], "v2"), dir);

        // Someone who ignores the lease (another tool) writes under the prefix while our uploads run: the listing
        // before deletes shows it.
        const originalPut = S3Store.prototype.put;
        S3Store.prototype.put = async function (this: S3Store, ...args) {
            if (!args[0].endsWith(".bucketops-lock")) await moto.put("pushes", "race/intruder.yaml", "x");
            return originalPut.apply(this, args);
        };
        try {
            const run = await bucketops("push", dir, "s3://pushes/race", "--endpoint", moto.endpoint);
            assert.equal(run.code, 4, run.err);
            assert.match(run.err, /concurrent change detected .*race\/intruder\.yaml appeared/);
            assert.match(run.err, /nothing was deleted/);
        } finally {
            S3Store.prototype.put = originalPut;
        }
        const contents = await moto.contents("pushes", "race/");
        assert.ok("race/b.yaml" in contents, "the pruned key must survive an aborted push");

        // A key changed after our listing: the conditional write refuses to overwrite it.
        writeTree(manifestTree(["a"], "v3"), dir);
        const store = new S3Store(parseBucketUrl("s3://pushes/race"), { endpoint: moto.endpoint });
        const [listed] = (await store.list("race/a.yaml"));
        await moto.put("pushes", "race/a.yaml", "changed by someone else");
        await assert.rejects(
            store.put("race/a.yaml", Buffer.from("ours"), { md5: Buffer.alloc(16), contentType: "application/yaml", expected: listed }),
            /concurrent change detected: race\/a\.yaml/,
        );
    });

    it("reports an unreachable endpoint and a missing bucket in one line each", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        const port = await freePort();
        const unreachable = await bucketops("push", dir, "s3://pushes/x", "--endpoint", `http://127.0.0.1:${port}`);
        assert.equal(unreachable.code, 1);
        assert.match(unreachable.err, new RegExp(`^bucketops: cannot reach s3://pushes at http://127.0.0.1:${port} \\(ECONNREFUSED\\)`));

        const missing = await bucketops("revision", "s3://no-such-bucket", "--endpoint", moto.endpoint);
        assert.equal(missing.code, 1);
        assert.match(missing.err, /^bucketops: bucket 'no-such-bucket' does not exist/);
    });

    it("explains rejected credentials, and signs with the stack outputs' writer key", async () => {
        // moto accepts any key, so a stand-in endpoint answers the way S3 does for an unknown key.
        const authorizations: string[] = [];
        const server: Server = createServer((req, res) => {
            authorizations.push(req.headers.authorization ?? "");
            res.writeHead(403, { "content-type": "application/xml" });
            res.end(
                '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code>' +
                    "<Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>",
            );
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const { port } = server.address() as { port: number };
            const run = await bucketops("revision", "s3://pushes", "--endpoint", `http://127.0.0.1:${port}`);
            assert.equal(run.code, 1);
            assert.match(run.err, /credentials rejected by s3:\/\/pushes .*InvalidAccessKeyId/);

            const outputs = path.join(mkdtempSync(path.join(tmpdir(), "bucketops-outputs-")), "infra.json");
            writeFileSync(outputs, JSON.stringify({
                provider: "generic",
                bucketName: "pushes",
                endpoint: `127.0.0.1:${port}`,
                insecure: true,
                writerAccessKeyId: "AKIDWRITER",
                writerSecretAccessKey: "writer-secret",
            }));
            await new Promise((resolve) => setTimeout(resolve, 200)); // let the first run's parallel GET land
            authorizations.length = 0;
            const fromOutputs = await bucketops("revision", "s3://pushes", "--from-stack-outputs", outputs);
            assert.equal(fromOutputs.code, 1);
            assert.match(fromOutputs.err, new RegExp(`credentials rejected by s3://pushes at http://127.0.0.1:${port}`));
            assert.ok(authorizations.length > 0);
            for (const authorization of authorizations) assert.match(authorization, /Credential=AKIDWRITER\//);

            // Per-environment credentials: the environment whose prefix holds the URL's; a generic
            // bucket's one key pair, exported as the reader's, otherwise.
            const perEnvironment = path.join(path.dirname(outputs), "environments.json");
            writeFileSync(perEnvironment, JSON.stringify({
                provider: "aws",
                bucketName: "pushes",
                endpoint: `127.0.0.1:${port}`,
                insecure: true,
                region: "eu-west-1",
                environments: {
                    dev: { prefix: "envs/dev/", writerAccessKeyId: "AKIDDEV", writerSecretAccessKey: "d" },
                    prod: { prefix: "envs/prod/", writerAccessKeyId: "AKIDPROD", writerSecretAccessKey: "p" },
                },
            }));
            await new Promise((resolve) => setTimeout(resolve, 200));
            authorizations.length = 0;
            await bucketops("revision", "s3://pushes/envs/prod", "--from-stack-outputs", perEnvironment);
            await new Promise((resolve) => setTimeout(resolve, 200));
            assert.ok(authorizations.length > 0);
            for (const authorization of authorizations) assert.match(authorization, /Credential=AKIDPROD\/\d+\/eu-west-1\//);
            const outside = await bucketops("revision", "s3://pushes/other", "--from-stack-outputs", perEnvironment);
            assert.equal(outside.code, 2);
            assert.match(outside.err, /prefix 'other' is in none of: dev \(envs\/dev\/\), prod \(envs\/prod\/\)/);

            writeFileSync(perEnvironment, JSON.stringify({ provider: "generic", endpoint: `127.0.0.1:${port}`, insecure: true, readerAccessKeyId: "AKIDGENERIC", readerSecretAccessKey: "g" }));
            authorizations.length = 0;
            await bucketops("revision", "s3://pushes", "--from-stack-outputs", perEnvironment);
            await new Promise((resolve) => setTimeout(resolve, 200));
            for (const authorization of authorizations) assert.match(authorization, /Credential=AKIDGENERIC\//);

            const saved = { ...process.env };
            try {
                delete process.env.AWS_ACCESS_KEY_ID;
                delete process.env.AWS_SECRET_ACCESS_KEY;
                process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(path.dirname(outputs), "none");
                process.env.AWS_CONFIG_FILE = path.join(path.dirname(outputs), "none");
                process.env.AWS_EC2_METADATA_DISABLED = "true";
                const none = await bucketops("revision", "s3://pushes", "--endpoint", `http://127.0.0.1:${port}`);
                assert.equal(none.code, 1);
                assert.match(none.err, /^bucketops: no credentials for s3:\/\/pushes .*AWS_ACCESS_KEY_ID/);
            } finally {
                process.env = saved;
            }

            const wrongProvider = await bucketops("revision", "gs://pushes", "--from-stack-outputs", outputs);
            assert.equal(wrongProvider.code, 2);
            assert.match(wrongProvider.err, /stack outputs are for provider 'generic' but the URL is gs:\/\/pushes/);
        } finally {
            server.close();
        }
    });

    it("rejects bad arguments with exit 2 and a message naming what is allowed", async () => {
        const badUrl = await bucketops("revision", "http://pushes/x");
        assert.equal(badUrl.code, 2);
        assert.match(badUrl.err, /expected s3:\/\/<bucket>\[\/<prefix>\] or gs:\/\/<bucket>\[\/<prefix>\]/);
        const notDir = await bucketops("push", "/nonexistent-dir", "s3://pushes/x", "--endpoint", moto.endpoint);
        assert.equal(notDir.code, 2);
        assert.match(notDir.err, /is not a directory/);
        const empty = await bucketops("push", writeTree({}), "s3://pushes/envs/dev", "--endpoint", moto.endpoint);
        assert.equal(empty.code, 2);
        assert.match(empty.err, /has no files: pushing it would delete every object under the prefix/);
        assert.notDeepEqual(await moto.contents("pushes", "envs/dev/"), {});
    });
});
