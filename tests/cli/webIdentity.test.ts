import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { accessPolicy } from "../../components/aws/policies.ts";
import { bucketops, states } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";
import { Moto } from "../support/moto.ts";

const BUCKET = "keyless";

/**
 * bucketops as a CI job or a pod with IRSA runs it: no key anywhere, only AWS_ROLE_ARN and a token file
 * (AWS_WEB_IDENTITY_TOKEN_FILE), which the AWS SDK's default chain exchanges with STS AssumeRoleWithWebIdentity for
 * the role's temporary credentials. moto_server stands for STS and S3 with IAM enforced: the session carries the
 * role's policy (accessPolicy, as BucketRole attaches it), so writes outside its prefix are refused by the server.
 * moto does not check the token or the trust policy (tests/components/aws/webIdentity.test.ts decides those).
 */
describe("bucketops with the SDK's web-identity chain and keyless stack outputs (moto_server: STS and S3, IAM enforced)", () => {
    let moto: Moto;
    let outputs: string;
    let roleArn: string;
    const saved = { ...process.env };
    before(async () => {
        moto = await Moto.start({ iam: true });
        await moto.createBucket(BUCKET);
        const iam = new IAMClient({ endpoint: moto.endpoint, region: "us-east-1" });
        try {
            const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }, Action: "sts:AssumeRoleWithWebIdentity" }] };
            roleArn = (await iam.send(new CreateRoleCommand({ RoleName: "dev-ci-writer", AssumeRolePolicyDocument: JSON.stringify(trust) }))).Role!.Arn!;
            await iam.send(new PutRolePolicyCommand({ RoleName: "dev-ci-writer", PolicyName: "bucket", PolicyDocument: JSON.stringify(accessPolicy(`arn:aws:s3:::${BUCKET}`, "write", "dev/")) }));
        } finally {
            iam.destroy();
        }
        await moto.enforceIam();

        const dir = writeTree({ token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvZGVwbG95OnJlZjpyZWZzL2hlYWRzL21haW4ifQ.c2ln" });
        outputs = path.join(dir, "outputs.json");
        writeFileSync(
            outputs,
            JSON.stringify({ provider: "aws", auth: "workload-identity", region: "us-east-1", environments: { dev: { prefix: "dev/", ciWriterRoleArn: roleArn } } }),
        );
        // What aws-actions/configure-aws-credentials (web-identity-token-file) or the EKS pod identity webhook sets; no key.
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) delete process.env[key];
        Object.assign(process.env, {
            AWS_ROLE_ARN: roleArn,
            AWS_WEB_IDENTITY_TOKEN_FILE: path.join(dir, "token"),
            AWS_ENDPOINT_URL_STS: moto.endpoint,
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
            AWS_EC2_METADATA_DISABLED: "true",
        });
    });
    after(() => {
        moto?.stop();
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
    });

    it("pushes under the role's prefix with the role's session, recorded as its temporary key", async () => {
        const pushed = await bucketops("push", writeTree(manifestTree(["a", "b"], "v1")), `s3://${BUCKET}/dev/`, "--endpoint", moto.endpoint, "--from-stack-outputs", outputs, "--no-cluster");
        assert.equal(pushed.code, 0, pushed.err);
        assert.deepEqual(Object.keys(await moto.contents(BUCKET, "dev/")).sort(), ["dev/a.yaml", "dev/b.yaml", "dev/kustomization.yaml"]);
        const [state] = states(await bucketops("history", `s3://${BUCKET}/dev/`, "--endpoint", moto.endpoint, "--from-stack-outputs", outputs, "--json"));
        // STS's temporary credentials (ASIA…), not a stored key (AKIA…): the chain assumed the role.
        assert.match(state.release!.identity, /^access key ASIA[A-Z0-9]{16}$/);
    });

    it("is refused outside the prefix by the server, and says the credentials are the web identity's role", async () => {
        const outside = path.join(path.dirname(outputs), "prod.json");
        writeFileSync(outside, JSON.stringify({ provider: "aws", auth: "workload-identity", region: "us-east-1" }));
        const refused = await bucketops("push", writeTree(manifestTree(["a"], "v1")), `s3://${BUCKET}/prod/`, "--endpoint", moto.endpoint, "--from-stack-outputs", outside, "--no-cluster", "--concurrency", "1");
        assert.equal(refused.code, 1);
        assert.equal(
            refused.err,
            `bucketops: access denied: s3://${BUCKET} at ${moto.endpoint} does not allow these credentials to write prod/.bucketops-lock (AccessDenied: Access Denied). ` +
                `The credentials came from the AWS SDK's chain (web identity: the role ${roleArn}): check which identity that is and what its policy allows. ` +
                "The stack outputs hold no keys (auth workload-identity): use an identity of your own that may write the bucket.\n" +
                "push did not start: it could not take the prefix's lease, and nothing was changed.",
        );
        assert.deepEqual(await moto.contents(BUCKET, "prod/"), {});
    });
});
