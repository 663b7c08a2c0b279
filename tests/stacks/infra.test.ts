import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../stacks/config/errors.ts";
import { GENERIC_ON_EXISTING_CLUSTER, ofType, only, runInfra } from "../support/offline.ts";

const CREDENTIALS = ["kubeconfig", "readerAccessKeyId", "readerSecretAccessKey", "writerAccessKeyId", "writerSecretAccessKey"];

describe("infra stack", () => {
    test("aws: Civo cluster, versioned bucket, reader and writer; every credential exported as a secret", async () => {
        const run = await runInfra({ provider: "aws", region: "eu-central-1", bucketName: "acme-manifests", kubernetesVersion: "1.33.1-k3s1" });
        assert.equal(only(run, "pulumi:providers:aws").inputs.region, "eu-central-1");
        assert.equal(only(run, "aws:s3/bucket:Bucket").inputs.bucket, "acme-manifests");
        assert.equal(ofType(run, "fluxbucket:aws:BucketCredentials").length, 2);
        assert.equal(only(run, "civo:index/kubernetesCluster:KubernetesCluster").inputs.kubernetesVersion, "1.33.1-k3s1");
        // Civo's own naming, whatever it becomes, is passed through as written.
        for (const version of ["1.34.2-k3s1", "talos-v1.35.0", "1.33.0"]) {
            const other = await runInfra({ provider: "aws", bucketName: "acme-manifests", kubernetesVersion: version });
            assert.equal(only(other, "civo:index/kubernetesCluster:KubernetesCluster").inputs.kubernetesVersion, version);
        }
        assert.deepEqual(
            { ...run.outputs, kubeconfig: "(checked below)", readerSecretAccessKey: "-", writerSecretAccessKey: "-" },
            {
                provider: "aws",
                auth: "keys",
                bucketName: "acme-manifests",
                endpoint: "s3.eu-central-1.amazonaws.com",
                region: "eu-central-1",
                insecure: false,
                forceDestroy: false,
                kubeconfig: "(checked below)",
                readerAccessKeyId: run.outputs.readerAccessKeyId,
                readerSecretAccessKey: "-",
                writerAccessKeyId: run.outputs.writerAccessKeyId,
                writerSecretAccessKey: "-",
            },
        );
        assert.match(String(run.outputs.kubeconfig), /^apiVersion: v1\nkind: Config/);
        assert.deepEqual(run.secretOutputs.sort(), CREDENTIALS.sort());
    });

    test("gcp: bucket and service accounts, the key JSON exported as a secret", async () => {
        const run = await runInfra({ provider: "gcp", gcpProject: "acme-prod", gcpLocation: "EU" }, "gcp-dev");
        assert.equal(only(run, "gcp:storage/bucket:Bucket").inputs.location, "EU");
        assert.equal(ofType(run, "aws:s3/bucket:Bucket").length, 0);
        assert.equal(run.outputs.endpoint, "storage.googleapis.com");
        assert.equal(run.outputs.region, undefined);
        assert.equal(JSON.parse(String(run.outputs.readerServiceAccountKey)).type, "service_account");
        assert.deepEqual(run.secretOutputs.sort(), ["kubeconfig", "readerServiceAccountKey", "writerServiceAccountKey"]);
    });

    test("generic on an existing cluster: nothing is provisioned, config passes through, credentials as secrets", async () => {
        const run = await runInfra(GENERIC_ON_EXISTING_CLUSTER);
        assert.deepEqual(
            run.resources.filter((resource) => resource.custom).map((resource) => resource.type),
            [],
        );
        assert.deepEqual(run.outputs, {
            provider: "generic",
            auth: "keys",
            bucketName: "manifests",
            endpoint: "minio.internal:9000",
            insecure: true,
            kubeconfig: "apiVersion: v1\nkind: Config\n",
            readerAccessKeyId: "flux",
            readerSecretAccessKey: "flux-secret",
        });
        assert.deepEqual(run.secretOutputs.sort(), ["kubeconfig", "readerAccessKeyId", "readerSecretAccessKey"]);
    });

    test("azure: the container and its key pass through", async () => {
        const run = await runInfra({
            provider: "azure",
            bucketName: "manifests",
            endpoint: "https://acmeflux.blob.core.windows.net",
            azureSasKey: "sv=2024-11-04&sig=x",
        });
        assert.equal(run.outputs.endpoint, "https://acmeflux.blob.core.windows.net");
        assert.ok(run.secretOutputs.includes("readerAzureSasKey"));
        assert.equal(run.outputs.readerAzureAccountKey, undefined);
    });

    test("bad config fails before any resource is registered, naming every bad key", async () => {
        await assert.rejects(
            runInfra({ provider: "aws", region: "mars-1" }),
            (error: ConfigError) => {
                assert.deepEqual(error.problems, [
                    'Pulumi.dev.yaml: flux-bucket:region is "mars-1"; allowed: an AWS region code such as eu-west-1 or us-east-1',
                ]);
                return true;
            },
        );
    });

    test("an unknown key does not hide the bad values beside it", async () => {
        await assert.rejects(runInfra({ provider: "aws", region: "mars-1", bucketname: "typo" }), (error: ConfigError) => {
            assert.deepEqual(error.problems, [
                "Pulumi.dev.yaml: flux-bucket:bucketname is not a setting of this project (see the config reference in README.md)",
                'Pulumi.dev.yaml: flux-bucket:region is "mars-1"; allowed: an AWS region code such as eu-west-1 or us-east-1',
            ]);
            return true;
        });
    });

    test("a missing layer is named with what is allowed", async () => {
        await assert.rejects(runInfra({ layer: "" }), { message: "Invalid stack configuration:\n  - Pulumi.dev.yaml: flux-bucket:layer is required (infra or flux)" });
        await assert.rejects(runInfra({ layer: "cluster" }), { message: 'Invalid stack configuration:\n  - Pulumi.dev.yaml: flux-bucket:layer is "cluster"; allowed: infra, flux' });
    });
});
