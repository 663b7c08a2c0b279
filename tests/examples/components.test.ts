import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { PROVIDERS } from "../../src/bucket/providers.ts";
import { runOffline } from "../../src/offline/engine.ts";
import { autoName } from "../../src/offline/fakeState.ts";
import { ofType, only, ORGANIZATION, PROJECT } from "../support/offline.ts";

const root = path.resolve(import.meta.dirname, "../..");
const OIDC_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

test("the README's component example is examples/components.ts, which type-checks (npm test) and runs keyless", async () => {
    const example = readFileSync(path.join(root, "examples/components.ts"), "utf8");
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    assert.ok(readme.includes(`\`\`\`ts\n${example}\`\`\``), "README.md shows examples/components.ts verbatim");

    const run = await runOffline(() => import("../../examples/components.ts"), {
        project: PROJECT,
        stack: "example",
        organization: ORGANIZATION,
        config: { [`${PROJECT}:kubeconfig`]: "apiVersion: v1\nkind: Config\n", [`${PROJECT}:oidcProviderArn`]: OIDC_PROVIDER },
    });
    const bucket = only(run, "kubernetes:source.toolkit.fluxcd.io/v1:Bucket");
    assert.equal(bucket.inputs.spec.provider, "aws");
    assert.equal(bucket.inputs.spec.endpoint, "s3.eu-west-1.amazonaws.com");
    assert.equal(bucket.inputs.spec.secretRef, undefined);
    assert.deepEqual([...ofType(run, "kubernetes:core/v1:Secret"), ...ofType(run, "aws:iam/user:User"), ...ofType(run, "aws:iam/accessKey:AccessKey")], []);

    const role = only(run, "aws:iam/role:Role");
    const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement[0];
    assert.equal(trust.Principal.Federated, OIDC_PROVIDER);
    assert.equal(trust.Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub"], "system:serviceaccount:flux-system:source-controller");
    const values = only(run, "kubernetes:helm.sh/v3:Release").inputs.values;
    assert.deepEqual(values.sourceController.serviceAccount.annotations, {
        [PROVIDERS.aws.workloadIdentity.annotation]: `arn:aws:iam::123456789012:role/flux-bucket/${autoName("manifests-reader")}`,
    });
});
