import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BucketSync, type BucketSyncArgs, bucketSecretData } from "../../../components/flux/index.ts";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { only, runComponents } from "../../support/offline.ts";

const kustomization = { path: "./clusters/dev", prune: true, interval: "10m", retryInterval: "2m", timeout: "5m", wait: true };

function sync(args: Omit<BucketSyncArgs, "namespace" | "kustomization">): Promise<OfflineRun> {
    return runComponents(() => new BucketSync("flux-bucket", { namespace: "flux-system", kustomization, ...args }));
}

describe("BucketSync with aws", () => {
    let run: OfflineRun;
    before(async () => {
        run = await sync({
            bucket: { provider: "aws", bucketName: "manifests", endpoint: "s3.eu-west-1.amazonaws.com", region: "eu-west-1", interval: "1m", timeout: "60s" },
            credentials: { accessKey: "AKIAEXAMPLE", secretKey: "s3cr3t" },
        });
    });

    test("stores the keys Flux reads, as secret inputs", () => {
        const secret = only(run, "kubernetes:core/v1:Secret");
        assert.deepEqual(secret.inputs.metadata, { name: "flux-bucket", namespace: "flux-system" });
        assert.equal(secret.inputs.type, "Opaque");
        assert.deepEqual(secret.inputs.stringData, { accesskey: "AKIAEXAMPLE", secretkey: "s3cr3t" });
        // The SDK serializes the map as one secret value once any of its entries is secret.
        assert.deepEqual(secret.secretInputs, ["stringData"]);
    });

    test("creates a v1 Bucket with the aws spec and the Secret reference", () => {
        const bucket = only(run, "kubernetes:source.toolkit.fluxcd.io/v1:Bucket");
        assert.equal(bucket.inputs.apiVersion, "source.toolkit.fluxcd.io/v1");
        assert.equal(bucket.inputs.kind, "Bucket");
        assert.deepEqual(bucket.inputs.spec, {
            provider: "aws",
            bucketName: "manifests",
            endpoint: "s3.eu-west-1.amazonaws.com",
            region: "eu-west-1",
            interval: "1m",
            timeout: "60s",
            // bucketops' lease is never part of the revision (src/bucket/keys.ts).
            ignore: "# bucketops' lease and release records: never part of a revision\n.bucketops-lock\n.bucketops-release\n",
            secretRef: { name: "flux-bucket" },
        });
        assert.ok(bucket.dependencies.includes(only(run, "kubernetes:core/v1:Secret").urn));
    });

    test("creates a v1 Kustomization applying the bucket", () => {
        const resource = only(run, "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization");
        assert.deepEqual(resource.inputs.metadata, { name: "flux-bucket", namespace: "flux-system" });
        assert.deepEqual(resource.inputs.spec, { ...kustomization, sourceRef: { kind: "Bucket", name: "flux-bucket" } });
        assert.ok(resource.dependencies.includes(only(run, "kubernetes:source.toolkit.fluxcd.io/v1:Bucket").urn));
    });
});

describe("BucketSync with gcp", () => {
    let run: OfflineRun;
    before(async () => {
        run = await sync({
            bucket: { provider: "gcp", bucketName: "manifests", endpoint: "storage.googleapis.com", interval: "5m", prefix: "dev/", ignore: "*.md", suspend: true },
            credentials: { serviceAccountKey: '{"type":"service_account"}' },
        });
    });

    test("stores the key file under serviceaccount", () => {
        assert.deepEqual(only(run, "kubernetes:core/v1:Secret").inputs.stringData, { serviceaccount: '{"type":"service_account"}' });
    });

    test("keeps the endpoint and passes prefix, ignore and suspend", () => {
        assert.deepEqual(only(run, "kubernetes:source.toolkit.fluxcd.io/v1:Bucket").inputs.spec, {
            provider: "gcp",
            bucketName: "manifests",
            endpoint: "storage.googleapis.com",
            interval: "5m",
            prefix: "dev/",
            ignore: "*.md\n# bucketops' lease and release records: never part of a revision\n.bucketops-lock\n.bucketops-release\n",
            suspend: true,
            secretRef: { name: "flux-bucket" },
        });
    });
});

describe("BucketSync without credentials", () => {
    test("creates no Secret and no secretRef", async () => {
        const run = await sync({ bucket: { provider: "aws", bucketName: "public", endpoint: "s3.amazonaws.com", interval: "1m" } });
        assert.equal(run.resources.filter((resource) => resource.type === "kubernetes:core/v1:Secret").length, 0);
        assert.equal(only(run, "kubernetes:source.toolkit.fluxcd.io/v1:Bucket").inputs.spec.secretRef, undefined);
    });
});

describe("bucketSecretData", () => {
    test("uses Flux's keys for each provider", () => {
        assert.deepEqual(Object.keys(bucketSecretData("generic", { accessKey: "a", secretKey: "b" })), ["accesskey", "secretkey"]);
        assert.deepEqual(Object.keys(bucketSecretData("azure", { azureAccountKey: "k" })), ["accountKey"]);
        assert.deepEqual(Object.keys(bucketSecretData("azure", { azureSasKey: "sv=2024" })), ["sasKey"]);
    });

    test("refuses credentials the provider does not read", () => {
        assert.throws(
            () => bucketSecretData("gcp", { accessKey: "a", secretKey: "b" }),
            { message: "Flux's gcp Bucket provider reads serviceaccount from its Secret, not accesskey + secretkey" },
        );
        assert.throws(
            () => bucketSecretData("aws", { serviceAccountKey: "{}" }),
            { message: "Flux's aws Bucket provider reads accesskey + secretkey from its Secret, not serviceaccount" },
        );
    });
});
