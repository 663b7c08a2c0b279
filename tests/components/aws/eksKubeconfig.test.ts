import assert from "node:assert/strict";
import { after, test } from "node:test";
import { parse, stringify } from "yaml";
import { FluxCluster } from "../../../src/cli/cluster.ts";
import { autoName } from "../../../src/offline/fakeState.ts";
import { StrictFluxApi } from "../../support/fluxApi.ts";
import { runInfra } from "../../support/offline.ts";

/**
 * The kubeconfig EksCluster exports, used as bucketops uses it (FluxCluster, @kubernetes/client-node): the client runs
 * its credential plugin, the real AWS CLI (`aws eks get-token`, which signs an STS GetCallerIdentity URL locally and
 * sends nothing), and presents the token. What EKS's authenticator accepts is aws-iam-authenticator's token format:
 * `k8s-aws-v1.` + base64url of that presigned URL, with `x-k8s-aws-id: <cluster name>` among its signed headers, so
 * a token for one cluster is refused by another. The API server is the local stand-in, reached over plain http.
 */
const saved = { ...process.env };
after(() => {
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
    }
});

test("the EKS kubeconfig authenticates with `aws eks get-token` for its cluster and region, and holds no credential", async () => {
    const infra = await runInfra({ cluster: "eks", provider: "aws", region: "eu-central-1" }, "eks-dev");
    const kubeconfig = parse(String(infra.outputs.kubeconfig));
    assert.deepEqual(Object.keys(kubeconfig.users[0].user), ["exec"]);

    const api = await StrictFluxApi.start({ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "Bucket", metadata: { name: "flux-bucket", namespace: "flux-system" }, spec: {} });
    try {
        // Only the server changes (to the stand-in); the user entry, with its plugin and arguments, is the stack's.
        kubeconfig.clusters[0].cluster = { server: new URL(parse(api.kubeconfig()).clusters[0].cluster.server).origin, "insecure-skip-tls-verify": true };
        Object.assign(process.env, {
            AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
            AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
            AWS_EC2_METADATA_DISABLED: "true",
        });
        delete process.env.AWS_PROFILE;
        delete process.env.AWS_SESSION_TOKEN;
        const cluster = await FluxCluster.open({ timeoutMs: 30_000 }, { kubeconfig: stringify(kubeconfig) });
        await cluster.bucket();

        const authorization = api.requests[0].authorization ?? "";
        assert.match(authorization, /^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
        const presigned = new URL(Buffer.from(authorization.slice("Bearer k8s-aws-v1.".length), "base64url").toString("utf8"));
        assert.equal(presigned.host, "sts.eu-central-1.amazonaws.com");
        assert.equal(presigned.searchParams.get("Action"), "GetCallerIdentity");
        assert.ok(presigned.searchParams.get("X-Amz-SignedHeaders")!.split(";").includes("x-k8s-aws-id"));
        assert.match(presigned.searchParams.get("X-Amz-Credential")!, /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-central-1\/sts\/aws4_request$/);
        // The signed x-k8s-aws-id is not in the URL; the CLI put it there from --cluster-name, which is the cluster's.
        assert.deepEqual(kubeconfig.users[0].user.exec.args.slice(0, 4), ["eks", "get-token", "--cluster-name", autoName("cluster")]);
    } finally {
        api.close();
    }
});
