import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { OfflineRun,StackReferenceOutputs } from "../../src/offline/engine.ts";
import { GENERIC_ON_EXISTING_CLUSTER, asStackReference, ofType, only, runFlux, runInfra } from "../support/offline.ts";
import { BUCKETOPS_IGNORE } from "../../src/bucket/keys.ts";

const BUCKET = "kubernetes:source.toolkit.fluxcd.io/v1:Bucket";
const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("flux stack on the aws infra stack", () => {
    let infra: OfflineRun;
    let run: OfflineRun;
    before(async () => {
        infra = await runInfra({ provider: "aws", region: "eu-west-1", bucketName: "acme-manifests" });
        run = await runFlux({ bucketPrefix: "dev/", kustomizationPath: "./dev/clusters/dev" }, asStackReference(infra));
    });

    test("reads the infra stack named after this stack", () => {
        assert.equal(only(run, "pulumi:pulumi:StackReference").inputs.name, "organization/flux-bucket/dev");
        assert.equal(run.outputs.infraStack, "organization/flux-bucket/dev");
    });

    test("talks to the cluster through a provider built from the infra kubeconfig, kept secret", () => {
        const provider = only(run, "pulumi:providers:kubernetes");
        assert.equal(provider.inputs.kubeconfig, infra.outputs.kubeconfig);
        assert.ok(provider.secretInputs.includes("kubeconfig"));
        for (const type of [RELEASE, BUCKET, KUSTOMIZATION, "kubernetes:core/v1:Secret"]) {
            assert.ok(only(run, type).provider?.startsWith(provider.urn), `${type} uses the cluster provider`);
        }
    });

    test("installs the flux2 chart 2.18.3 into flux-system", () => {
        const release = only(run, RELEASE).inputs;
        assert.equal(release.chart, "flux2");
        assert.equal(release.version, "2.18.3");
        assert.equal(release.namespace, "flux-system");
        assert.equal(release.values.crds.annotations["helm.sh/resource-policy"], "keep");
    });

    test("gives Flux the infra stack's reader key, as a secret", () => {
        const secret = only(run, "kubernetes:core/v1:Secret");
        assert.deepEqual(secret.inputs.stringData, {
            accesskey: infra.outputs.readerAccessKeyId,
            secretkey: infra.outputs.readerSecretAccessKey,
        });
        assert.deepEqual(secret.secretInputs, ["stringData"]);
    });

    test("creates the Bucket with the infra stack's bucket, endpoint and region", () => {
        assert.deepEqual(only(run, BUCKET).inputs.spec, {
            provider: "aws",
            bucketName: "acme-manifests",
            endpoint: "s3.eu-west-1.amazonaws.com",
            region: "eu-west-1",
            interval: "1m",
            timeout: "60s",
            prefix: "dev/",
            ignore: BUCKETOPS_IGNORE,
            suspend: false,
            secretRef: { name: "flux-bucket" },
        });
    });

    test("creates the Kustomization from config", () => {
        assert.deepEqual(only(run, KUSTOMIZATION).inputs.spec, {
            interval: "10m",
            retryInterval: "2m",
            timeout: "5m",
            path: "./dev/clusters/dev",
            prune: true,
            wait: true,
            sourceRef: { kind: "Bucket", name: "flux-bucket" },
        });
    });

    test("runs Flux 2.8.8's controllers from chart 2.18.3 (source-controller v1.8.5 by default)", async () => {
        const tags = (flux: OfflineRun) => {
            const { values } = only(flux, RELEASE).inputs;
            return [values.cli.tag, values.sourceController.tag, values.kustomizeController.tag, values.helmController.tag, values.notificationController.tag];
        };
        assert.equal(only(run, RELEASE).inputs.version, "2.18.3");
        assert.deepEqual(tags(run), ["v2.8.8", "v1.8.5", "v1.8.5", "v1.5.5", "v1.8.4"]);
        const chartOwn = await runFlux({ fluxVersion: "2.8.5" }, asStackReference(infra));
        assert.deepEqual(tags(chartOwn), ["v2.8.5", "v1.8.2", "v1.8.3", "v1.5.3", "v1.8.3"]);
        await assert.rejects(runFlux({ fluxVersion: "2.9.0" }, asStackReference(infra)), {
            message: 'Invalid stack configuration:\n  - Pulumi.dev-flux.yaml: flux-bucket:fluxVersion is "2.9.0"; allowed: 2.8.5, 2.8.8',
        });
    });

    test("creates the Secret, Bucket and Kustomization only after the chart (and its CRDs)", () => {
        const release = only(run, RELEASE).urn;
        for (const type of ["kubernetes:core/v1:Secret", BUCKET, KUSTOMIZATION]) {
            assert.ok(only(run, type).dependencies.includes(release), `${type} depends on the flux2 release`);
        }
    });

    test("exports the objects it manages", () => {
        assert.deepEqual(run.outputs, {
            infraStack: "organization/flux-bucket/dev",
            namespace: "flux-system",
            chartVersion: "2.18.3",
            bucket: "flux-bucket",
            prefix: "dev/",
            kustomization: "flux-bucket",
            kustomizationPath: "./dev/clusters/dev",
            substitutePrefix: false,
        });
    });

    test("substitutePrefix: the root Kustomization sets ${BUCKETOPS_PREFIX} to the Bucket's prefix, and the outputs say so", async () => {
        const substituting = await runFlux({ bucketPrefix: "dev/", kustomizationPath: "./dev/clusters/dev", substitutePrefix: "true" }, asStackReference(infra));
        assert.deepEqual(only(substituting, KUSTOMIZATION).inputs.spec.postBuild, { substitute: { BUCKETOPS_PREFIX: "dev/" } });
        assert.equal(substituting.outputs.substitutePrefix, true);
        assert.equal(only(run, KUSTOMIZATION).inputs.spec.postBuild, undefined);
    });
});

describe("flux stack on other providers", () => {
    test("gcp: the service account key under serviceaccount, endpoint storage.googleapis.com, no region", async () => {
        const infra = await runInfra({ provider: "gcp", gcpProject: "acme-prod" }, "gcp-dev");
        const run = await runFlux({}, asStackReference(infra), { stack: "gcp-dev-flux", infraStack: "organization/flux-bucket/gcp-dev" });
        assert.deepEqual(Object.keys(only(run, "kubernetes:core/v1:Secret").inputs.stringData), ["serviceaccount"]);
        const spec = only(run, BUCKET).inputs.spec;
        assert.equal(spec.provider, "gcp");
        assert.equal(spec.endpoint, "storage.googleapis.com");
        assert.equal(spec.region, undefined);
    });

    test("generic: the insecure flag reaches the Bucket", async () => {
        const infra = await runInfra(GENERIC_ON_EXISTING_CLUSTER);
        const run = await runFlux({}, asStackReference(infra));
        const spec = only(run, BUCKET).inputs.spec;
        assert.equal(spec.provider, "generic");
        assert.equal(spec.endpoint, "minio.internal:9000");
        assert.equal(spec.insecure, true);
    });

    test("azure: the SAS token under sasKey", async () => {
        const infra = await runInfra({
            provider: "azure",
            bucketName: "manifests",
            endpoint: "https://acmeflux.blob.core.windows.net",
            azureSasKey: "sv=2024-11-04&sig=x",
        });
        const run = await runFlux({}, asStackReference(infra));
        assert.deepEqual(only(run, "kubernetes:core/v1:Secret").inputs.stringData, { sasKey: "sv=2024-11-04&sig=x" });
    });
});

describe("flux stack with a bad infra stack or config", () => {
    const infraOutputs = (outputs: Record<string, unknown>): StackReferenceOutputs => ({ outputs });

    test("an infra stack lacking outputs is named with what is missing, and nothing is created", async () => {
        await assert.rejects(runFlux({}, infraOutputs({ provider: "aws", bucketName: "b", endpoint: "s3.amazonaws.com" })), {
            message:
                'Invalid stack configuration:\n  - Pulumi.dev-flux.yaml: flux-bucket:infraStack "organization/flux-bucket/dev" lacks the outputs region, kubeconfig, readerAccessKeyId, readerSecretAccessKey needed for provider aws',
        });
    });

    test("an infra stack never deployed", async () => {
        await assert.rejects(runFlux({}, infraOutputs({})), {
            message: 'Invalid stack configuration:\n  - Pulumi.dev-flux.yaml: flux-bucket:infraStack "organization/flux-bucket/dev" has no output provider; run `pulumi up` on the infra stack first',
        });
    });

    test("an invalid interval fails before the StackReference is even read", async () => {
        await assert.rejects(runFlux({ bucketInterval: "daily" }, infraOutputs({})), {
            message: 'Invalid stack configuration:\n  - Pulumi.dev-flux.yaml: flux-bucket:bucketInterval is "daily"; allowed: a duration in ms, s, m or h such as 30s, 5m, 1h30m',
        });
    });

    test("creates only cluster objects, never cloud resources", async () => {
        const infra = await runInfra({ provider: "aws" });
        const run = await runFlux({}, asStackReference(infra));
        assert.equal(ofType(run, "aws:s3/bucket:Bucket").length, 0);
        assert.equal(ofType(run, "civo:index/kubernetesCluster:KubernetesCluster").length, 0);
    });
});
