import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as check from "../../../stacks/config/checks.ts";
import { ConfigError } from "../../../stacks/config/errors.ts";
import { readFluxConfig } from "../../../stacks/config/flux.ts";
import { readInfraConfig } from "../../../stacks/config/infra.ts";
import { ConfigReader } from "../../../stacks/config/reader.ts";

const self = { organization: "acme", project: "flux-bucket", stack: "dev-flux" };

function problemsOf(read: () => unknown): string[] {
    try {
        read();
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
        return error.problems;
    }
    assert.fail("expected the config to be rejected");
}

describe("infra config", () => {
    test("applies the declared defaults", () => {
        const config = readInfraConfig(new ConfigReader({}));
        assert.deepEqual(config.cluster, { kind: "civo", region: "LON1", nodeSize: "g4s.kube.medium", nodeCount: 2, kubernetesVersion: undefined });
        assert.deepEqual(config.storage, {
            provider: "aws",
            region: "eu-west-1",
            bucketName: undefined,
            noncurrentVersionDays: 30,
            forceDestroy: false,
            environments: undefined,
        });
    });

    test("reads gcp settings", () => {
        const config = readInfraConfig(
            new ConfigReader({ provider: "gcp", gcpProject: "acme-prod-1", gcpLocation: "europe-west1", noncurrentVersionDays: "7", forceDestroy: "true" }),
        );
        assert.deepEqual(config.storage, {
            provider: "gcp",
            project: "acme-prod-1",
            location: "europe-west1",
            bucketName: undefined,
            noncurrentVersionDays: 7,
            forceDestroy: true,
            environments: undefined,
        });
    });

    const rejected: [string, Record<string, string>, string][] = [
        ["an unknown provider", { provider: "oracle" }, 'flux-bucket:provider is "oracle"; allowed: aws, gcp, generic, azure'],
        ["a bad region", { region: "europe" }, 'flux-bucket:region is "europe"; allowed: an AWS region code such as eu-west-1 or us-east-1'],
        ["an invalid S3 bucket name", { bucketName: "My_Bucket" }, 'flux-bucket:bucketName is "My_Bucket"; allowed: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit'],
        ["a gcp stack without project", { provider: "gcp" }, "flux-bucket:gcpProject is required when provider is gcp"],
        ["a generic stack without endpoint and keys", { provider: "generic", bucketName: "manifests" }, "flux-bucket:endpoint is required when provider is generic"],
        ["a generic endpoint with a scheme", { provider: "generic", bucketName: "manifests", endpoint: "https://minio:9000", accessKey: "a", secretKey: "b" }, 'flux-bucket:endpoint is "https://minio:9000"; allowed: a host[:port] without scheme or path, such as minio.example.com:9000'],
        ["an azure stack with no key", { provider: "azure", bucketName: "manifests", endpoint: "https://acme.blob.core.windows.net" }, "flux-bucket:azureAccountKey or flux-bucket:azureSasKey is required when provider is azure; set exactly one of the two"],
        ["an existing cluster without kubeconfig", { cluster: "existing" }, "flux-bucket:kubeconfig is required when cluster is existing"],
        ["Kubernetes older than the flux2 chart accepts", { kubernetesVersion: "1.32.5-k3s1" }, 'flux-bucket:kubernetesVersion is "1.32.5-k3s1"; allowed: Kubernetes 1.33 or newer (the flux2 chart refuses older), such as 1.33.1-k3s1'],
        ["a zero retention", { noncurrentVersionDays: "0" }, 'flux-bucket:noncurrentVersionDays is "0"; allowed: a whole number from 1 to 3650'],
        ["a non-boolean flag", { forceDestroy: "yes" }, 'flux-bucket:forceDestroy is "yes"; allowed: true or false'],
        ["a misspelt key", { bucketname: "x" }, "flux-bucket:bucketname is not a setting of this project (see the config reference in README.md)"],
    ];
    for (const [what, values, message] of rejected) {
        test(`rejects ${what}`, () => assert.ok(problemsOf(() => readInfraConfig(new ConfigReader(values))).includes(message)));
    }

    test("names every bad key in one error", () => {
        assert.throws(
            () => readInfraConfig(new ConfigReader({ provider: "generic", insecure: "maybe" })),
            (error: ConfigError) =>
                error.message.startsWith("Invalid stack configuration:\n") &&
                error.problems.length === 5 &&
                ["bucketName", "endpoint", "insecure", "accessKey", "secretKey"].every((key) => error.message.includes(`flux-bucket:${key} `)),
        );
    });
});

describe("keys the program would not read", () => {
    const read = (all: Record<string, string>) => problemsOf(() => readInfraConfig(ConfigReader.fromAllConfig(all, "Pulumi.dev.yaml")));

    test("a key of the other layer is refused, naming the file it belongs in", () => {
        assert.deepEqual(read({ "flux-bucket:layer": "infra", "flux-bucket:kustomizationPath": "./clusters/prod" }), [
            "Pulumi.dev.yaml: flux-bucket:kustomizationPath is a setting of the flux layer, and this stack's flux-bucket:layer is infra, which never reads it; move it to the flux stack's file",
        ]);
        assert.deepEqual(
            problemsOf(() => readFluxConfig(ConfigReader.fromAllConfig({ "flux-bucket:layer": "flux", "flux-bucket:forceDestroy": "true" }, "Pulumi.dev-flux.yaml"), self)),
            ["Pulumi.dev-flux.yaml: flux-bucket:forceDestroy is a setting of the infra layer, and this stack's flux-bucket:layer is flux, which never reads it; move it to the infra stack's file"],
        );
        // kubeconfig belongs to both layers.
        assert.doesNotThrow(() => readFluxConfig(ConfigReader.fromAllConfig({ "flux-bucket:layer": "flux", "flux-bucket:kubeconfig": "apiVersion: v1" }), self));
    });

    test("a provider's key that the program's own setting overrides is refused, saying which wins", () => {
        assert.deepEqual(read({ "flux-bucket:layer": "infra", "aws:region": "us-east-1" }), [
            'Pulumi.dev.yaml: aws:region is "us-east-1", but the bucket and its identities are created in flux-bucket:region ("eu-west-1"), which wins; set flux-bucket:region instead and remove aws:region',
        ]);
        assert.deepEqual(read({ "flux-bucket:layer": "infra", "flux-bucket:provider": "gcp", "flux-bucket:gcpProject": "acme-prod-1", "gcp:project": "acme-dev-1", "civo:region": "FRA1" }), [
            'Pulumi.dev.yaml: civo:region is "FRA1", but the cluster is created in flux-bucket:civoRegion ("LON1"), which wins; set flux-bucket:civoRegion instead and remove civo:region',
            'Pulumi.dev.yaml: gcp:project is "acme-dev-1", but the bucket and its service accounts are created in flux-bucket:gcpProject ("acme-prod-1"), which wins; set flux-bucket:gcpProject instead and remove gcp:project',
        ]);
        assert.deepEqual(
            problemsOf(() => readFluxConfig(ConfigReader.fromAllConfig({ "flux-bucket:layer": "flux", "kubernetes:kubeconfig": "apiVersion: v1" }, "Pulumi.dev-flux.yaml"), self)),
            ["Pulumi.dev-flux.yaml: kubernetes:kubeconfig is set, but Flux is installed through a provider of its own, on the cluster of flux-bucket:kubeconfig, which wins; set flux-bucket:kubeconfig instead and remove kubernetes:kubeconfig"],
        );
        // The same value in both places, and keys the program leaves to the provider (credentials), are fine.
        assert.doesNotThrow(() =>
            readInfraConfig(ConfigReader.fromAllConfig({ "flux-bucket:layer": "infra", "flux-bucket:region": "us-east-1", "aws:region": "us-east-1", "aws:profile": "ops", "civo:token": "x" })),
        );
        // With a provider that makes no AWS resources, aws:region is not this program's business.
        assert.doesNotThrow(() =>
            readInfraConfig(ConfigReader.fromAllConfig({ "flux-bucket:layer": "infra", "flux-bucket:cluster": "existing", "flux-bucket:kubeconfig": "k", "flux-bucket:provider": "generic", "flux-bucket:bucketName": "manifests", "flux-bucket:endpoint": "minio:9000", "flux-bucket:accessKey": "a", "flux-bucket:secretKey": "b", "aws:region": "us-east-1", "civo:region": "FRA1" })),
        );
    });
});

describe("flux config", () => {
    test("defaults the infra stack to this stack's name without -flux", () => {
        const config = readFluxConfig(new ConfigReader({}), self);
        assert.equal(config.infraStack, "acme/flux-bucket/dev");
        assert.deepEqual(config.bucket, { interval: "1m", timeout: "60s", prefix: undefined, ignore: undefined, suspend: false });
        assert.deepEqual(config.kustomization, { path: "./clusters/dev", prune: true, interval: "10m", retryInterval: "2m", timeout: "5m", wait: true, substitutePrefix: false });
        assert.deepEqual(config.install, { chartVersion: "2.18.3", fluxRelease: "2.8.8" });
        assert.equal(config.namespace, "flux-system");
    });

    test("requires infraStack when the stack name cannot give it", () => {
        assert.deepEqual(problemsOf(() => readFluxConfig(new ConfigReader({}), { ...self, stack: "production" })), [
            'flux-bucket:infraStack is required because this stack\'s name "production" does not end in "-flux"; set it to <organization>/<project>/<infra stack>',
        ]);
    });

    const rejected: [string, Record<string, string>, string][] = [
        ["an interval in days", { bucketInterval: "1d" }, 'flux-bucket:bucketInterval is "1d"; allowed: a duration in ms, s, m or h such as 30s, 5m, 1h30m'],
        ["a bucket timeout in hours", { bucketTimeout: "1h" }, 'flux-bucket:bucketTimeout is "1h"; allowed: a duration in ms, s or m such as 60s or 2m'],
        ["a retry interval without unit", { kustomizationRetryInterval: "30" }, 'flux-bucket:kustomizationRetryInterval is "30"; allowed: a duration in ms, s, m or h such as 30s, 5m, 1h30m'],
        ["a path leaving the bucket", { kustomizationPath: "../other" }, 'flux-bucket:kustomizationPath is "../other"; allowed: a path relative to the bucket root such as ./clusters/dev, without ..'],
        ["a namespace that is no DNS label", { fluxNamespace: "Flux_System" }, 'flux-bucket:fluxNamespace is "Flux_System"; allowed: lowercase letters, digits and hyphens, at most 63'],
        ["a partial stack name", { infraStack: "dev" }, 'flux-bucket:infraStack is "dev"; allowed: a fully qualified stack name <organization>/<project>/<stack>'],
    ];
    for (const [what, values, message] of rejected) {
        test(`rejects ${what}`, () => assert.deepEqual(problemsOf(() => readFluxConfig(new ConfigReader(values), self)), [message]));
    }
});

describe("checks", () => {
    test("Flux durations follow the CRD patterns", () => {
        for (const ok of ["1m", "30s", "1h30m", "500ms", "1.5h"]) assert.equal(check.fluxDuration(ok), undefined, ok);
        for (const bad of ["1d", "m", "1 m", "-1m", ""]) assert.notEqual(check.fluxDuration(bad), undefined, bad);
        assert.equal(check.fluxBucketTimeout("90s"), undefined);
        assert.notEqual(check.fluxBucketTimeout("1h"), undefined);
    });

    test("regions, names and endpoints", () => {
        for (const ok of ["eu-west-1", "us-gov-west-1", "ap-southeast-2"]) assert.equal(check.awsRegion(ok), undefined, ok);
        for (const bad of ["EU-WEST-1", "eu-west", "euwest1"]) assert.notEqual(check.awsRegion(bad), undefined, bad);
        for (const bad of ["ab", "xn--bucket", "bucket..name", "-bucket", "bucket-s3alias"]) assert.notEqual(check.s3BucketName(bad), undefined, bad);
        assert.equal(check.bareHost("minio.local:9000"), undefined);
        assert.notEqual(check.bareHost("minio.local/path"), undefined);
        assert.equal(check.civoKubernetesVersion("1.34.0-k3s1"), undefined);
    });
});
