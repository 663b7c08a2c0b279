import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem, ManifestValidationError, validateObjects } from "../../src/validate/index.ts";
import { expectProblems } from "./expectProblems.ts";

const FILE = "stacks/flux.ts";

const bucket = {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "Bucket",
    metadata: { name: "flux-bucket", namespace: "flux-system" },
    spec: { interval: "1m", provider: "aws", bucketName: "my-bucket", endpoint: "s3.amazonaws.com", region: "eu-west-1" },
};
const kustomization = {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: "flux-bucket", namespace: "flux-system" },
    spec: { interval: "10m", path: "./clusters/dev", prune: true, sourceRef: { kind: "Bucket", name: "flux-bucket" } },
};

describe("validateObjects", () => {
    it("accepts what the flux stack applies: Namespace, Secret, Bucket, Kustomization, HelmRelease", async () => {
        await validateObjects([
            { file: FILE, object: { apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system" } } },
            { file: FILE, object: { apiVersion: "v1", kind: "Secret", metadata: { name: "creds" }, stringData: { accesskey: "a" } } },
            { file: FILE, object: bucket },
            { file: FILE, object: kustomization },
            {
                file: FILE,
                object: {
                    apiVersion: "helm.toolkit.fluxcd.io/v2",
                    kind: "HelmRelease",
                    metadata: { name: "podinfo" },
                    spec: { interval: "5m", chart: { spec: { chart: "podinfo", sourceRef: { kind: "HelmRepository", name: "podinfo" } } } },
                },
            },
        ]);
    });

    it("rejects what the API server refuses for its size: ConfigMap or Secret data over 1 MiB, any object over 1.5 MiB", async () => {
        const configMap = (data: Record<string, string>, binaryData?: Record<string, string>) => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "big", namespace: "default" },
            data,
            ...(binaryData ? { binaryData } : {}),
        });
        const MiB = 1024 * 1024;
        // Exactly 1 MiB of data is accepted (the API server's limit is "more than MaxSecretSize").
        await validateObjects([{ file: "a.yaml", object: configMap({ a: "x".repeat(MiB / 2), b: "y".repeat(MiB / 2) }) }]);
        await expectProblems(() => validateObjects([{ file: "a.yaml", object: configMap({ a: "x".repeat(MiB / 2), b: "y".repeat(MiB / 2 + 1) }) }]), [
            { file: "a.yaml", object: "ConfigMap/big", field: "data", message: "holds 1.00 MiB (data and binaryData); the API server takes at most 1.00 MiB in a ConfigMap" },
        ]);
        // binaryData counts decoded: 1 MiB of base64 text is 0.75 MiB of data.
        await validateObjects([{ file: "a.yaml", object: configMap({ a: "x".repeat(MiB / 4) }, { b: Buffer.alloc(MiB * 0.75 - 1).toString("base64") }) }]);
        const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "big", namespace: "default" }, data: { key: Buffer.alloc(MiB + 1).toString("base64") } };
        await expectProblems(() => validateObjects([{ file: "s.yaml", object: secret }]), [
            { file: "s.yaml", object: "Secret/big", field: "data", message: "holds 1.00 MiB (data and stringData); the API server takes at most 1.00 MiB in a Secret" },
        ]);
        const huge = { ...bucket, metadata: { ...bucket.metadata, annotations: { note: "z".repeat(2 * MiB) } } };
        await expectProblems(() => validateObjects([{ file: FILE, object: huge }]), [
            { file: FILE, object: "Bucket/flux-bucket", field: "", message: "is 2.00 MiB as JSON; the API server (etcd) takes at most 1.50 MiB per object" },
        ]);
    });

    it("names the file, object and field of a wrong type", async () => {
        await expectProblems(() => validateObjects([{ file: FILE, object: { ...bucket, spec: { ...bucket.spec, interval: 60 } } }]), [
            { file: FILE, object: "Bucket/flux-bucket", field: "spec.interval", message: "must be string (got 60)" },
        ]);
    });

    it("names a missing required field by its full path", async () => {
        const release = {
            apiVersion: "helm.toolkit.fluxcd.io/v2",
            kind: "HelmRelease",
            metadata: { name: "podinfo" },
            spec: { interval: "5m", chart: { spec: { chart: "podinfo" } } },
        };
        await expectProblems(() => validateObjects([{ file: FILE, object: release }]), [
            { file: FILE, object: "HelmRelease/podinfo", field: "spec.chart.spec.sourceRef", message: "is required" },
        ]);
    });

    it("lists the allowed values of an enum", async () => {
        const object = { ...kustomization, spec: { ...kustomization.spec, sourceRef: { kind: "S3Bucket", name: "flux-bucket" } } };
        await expectProblems(() => validateObjects([{ file: FILE, object }]), [
            {
                file: FILE,
                object: "Kustomization/flux-bucket",
                field: "spec.sourceRef.kind",
                message: 'must be one of OCIRepository, GitRepository, Bucket, ExternalArtifact (got "S3Bucket")',
            },
        ]);
    });

    it("gives an int-or-string field one message, with array indexes in the path", async () => {
        const service = {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "web" },
            spec: { ports: [{ port: 80 }, { port: 443, targetPort: true }] },
        };
        await expectProblems(() => validateObjects([{ file: FILE, object: service }]), [
            { file: FILE, object: "Service/web", field: "spec.ports[1].targetPort", message: "must be string or integer (got true)" },
        ]);
    });

    it("rejects an apiVersion the schemas do not know, saying where the kind is defined", async () => {
        const object = { ...kustomization, apiVersion: "kustomize.toolkit.fluxcd.io/v2" };
        await expectProblems(() => validateObjects([{ file: FILE, object }]), [
            {
                file: FILE,
                object: "Kustomization/flux-bucket",
                field: "apiVersion",
                message:
                    'no schema for Kustomization in kustomize.toolkit.fluxcd.io/v2; the versions known are kustomize.toolkit.fluxcd.io/v1, kustomize.toolkit.fluxcd.io/v1beta1, ' +
                    "kustomize.toolkit.fluxcd.io/v1beta2 (add its CRD to the tree or a JSON schema with --schema-location <dir>)",
            },
        ]);
    });

    it("rejects a custom resource whose group has no schema (the project's own objects: unknown is an error)", async () => {
        const object = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } };
        await expectProblems(() => validateObjects([{ file: FILE, object }]), [
            {
                file: FILE,
                object: "Widget/w",
                field: "apiVersion",
                message:
                    "no schema for Widget (example.com/v1): not in the Kubernetes, Flux or bundled operator schemas, nor a CRD of the tree " +
                    "(add its CRD to the tree or a JSON schema with --schema-location <dir>)",
            },
        ]);
    });

    it("rejects an unknown kind of a known apiVersion", async () => {
        const object = { apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "web" } };
        await expectProblems(() => validateObjects([{ file: FILE, object }]), [
            { file: FILE, object: "Deploymnet/web", field: "kind", message: 'no schema for kind "Deploymnet" in apps/v1 (add its CRD to the tree or a JSON schema with --schema-location <dir>)' },
        ]);
    });

    it("rejects values that are not objects or lack apiVersion or kind", async () => {
        await expectProblems(
            () =>
                validateObjects([
                    { file: "a.yaml", object: ["not", "a", "mapping"] },
                    { file: "b.yaml", object: { kind: "ConfigMap", metadata: { name: "c" } } },
                    { file: "c.yaml", object: { apiVersion: "v1", metadata: { name: "c" } } },
                ]),
            [
                { file: "a.yaml", object: "(no kind)/(no name)", field: "", message: "is not a Kubernetes object (expected a mapping with apiVersion and kind)" },
                { file: "b.yaml", object: "ConfigMap/c", field: "apiVersion", message: "is required" },
                { file: "c.yaml", object: "(no kind)/c", field: "kind", message: "is required" },
            ],
        );
    });

    it("reports every problem of every object, one line each in the error message", async () => {
        const broken = { ...bucket, spec: { ...bucket.spec, interval: 60, bucketName: undefined } };
        const error = await validateObjects([
            { file: FILE, object: broken },
            { file: "other.ts", object: { apiVersion: "v1", kind: "Namespace", metadata: { name: 7 } } },
        ]).catch((e: unknown) => e);
        assert.ok(error instanceof ManifestValidationError);
        assert.equal(
            error.message,
            [
                "3 manifest problems:",
                "  stacks/flux.ts: Bucket/flux-bucket: spec.bucketName: is required",
                "  stacks/flux.ts: Bucket/flux-bucket: spec.interval: must be string (got 60)",
                "  other.ts: Namespace/(no name): metadata.name: must be string (got 7)",
            ].join("\n"),
        );
        assert.equal(formatProblem(error.problems[0]), "stacks/flux.ts: Bucket/flux-bucket: spec.bucketName: is required");
    });
});
