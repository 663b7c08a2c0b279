import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { InfraOutputs } from "../../src/bucket/outputs.ts";
import { runInfra } from "../support/offline.ts";
import { bucketops } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";
import { freePort, Moto } from "../support/moto.ts";
import { CrashingProxy } from "./helpers/proxy.ts";

/** `pulumi stack output --json --show-secrets` of an offline run: every output, secrets in the clear. */
function outputsFile(outputs: Record<string, unknown>): string {
    const file = path.join(writeTree({}), "outputs.json");
    writeFileSync(file, JSON.stringify(outputs, null, 2));
    return file;
}

/** The access key id and region each request was signed with (SigV4 `Credential=<key>/<date>/<region>/s3/…`). */
function signers(proxy: CrashingProxy): string[] {
    return [...new Set(proxy.requests.map((request) => /Credential=([^/]+)\/\d+\/([^/]+)\//.exec(String(request.headers.authorization))?.slice(1).join(" ")))] as string[];
}

// bucketops reads the outputs the infra stack really exports (an offline run of stacks/infra.ts), not a hand-written
// copy: renaming an output in src/bucket/outputs.ts or in the stack breaks these tests. moto_server stands for S3;
// the endpoint output (an AWS host) is replaced by --endpoint, and --no-cluster keeps push from the outputs' (fake)
// kubeconfig, so nothing leaves 127.0.0.1.
describe("bucketops with the outputs of an offline run of the infra stack (moto_server)", () => {
    let moto: Moto;
    let proxy: CrashingProxy;
    before(async () => {
        moto = await Moto.start();
        proxy = await CrashingProxy.start(moto.endpoint, await freePort());
    });
    after(() => {
        proxy?.close();
        moto?.stop();
    });

    it("signs with the whole-bucket writer's key and the bucket's region", async () => {
        const infra = (await runInfra({ provider: "aws", region: "eu-central-1", bucketName: "outputs-whole" })).outputs as unknown as InfraOutputs;
        await moto.createBucket("outputs-whole");
        const from = proxy.requests.length;
        const pushed = await bucketops("push", writeTree(manifestTree(["a"], "v1")), "s3://outputs-whole/app", "--from-stack-outputs", outputsFile({ ...infra }), "--endpoint", proxy.endpoint, "--no-cluster");
        assert.equal(pushed.code, 0, pushed.err);
        proxy.requests.splice(0, from);
        assert.match(infra.writerAccessKeyId!, /^AKIA/);
        assert.deepEqual(signers(proxy), [`${infra.writerAccessKeyId} eu-central-1`]);
    });

    it("with environments, signs with the writer of the environment whose prefix holds the URL's", async () => {
        const infra = (await runInfra({ provider: "aws", bucketName: "outputs-envs", environments: '["dev","prod=teams/a/prod"]' })).outputs as unknown as InfraOutputs;
        await moto.createBucket("outputs-envs");
        const file = outputsFile({ ...infra });
        for (const [env, prefix] of [["dev", "dev/"], ["prod", "teams/a/prod/"]]) {
            proxy.requests.splice(0);
            const pushed = await bucketops("push", writeTree(manifestTree(["a"], env)), `s3://outputs-envs/${prefix}`, "--from-stack-outputs", file, "--endpoint", proxy.endpoint, "--no-cluster");
            assert.equal(pushed.code, 0, pushed.err);
            assert.equal(infra.environments![env].prefix, prefix);
            assert.deepEqual(signers(proxy), [`${infra.environments![env].writerAccessKeyId} eu-west-1`]);
        }
        const outside = await bucketops("revision", "s3://outputs-envs/qa", "--from-stack-outputs", file, "--endpoint", proxy.endpoint);
        assert.equal(outside.code, 2);
        assert.match(outside.err, /prefix 'qa' is in none of: dev \(dev\/\), prod \(teams\/a\/prod\/\)/);
    });
});
