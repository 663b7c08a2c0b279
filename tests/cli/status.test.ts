import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bucketops, md5, printedRevision, sha256 } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";
import { FakeKubeApi } from "./helpers/kube.ts";
import { Moto } from "../support/moto.ts";

const ready = [{ type: "Ready", status: "True", reason: "Succeeded", message: "ok" }];

function kustomization(name: string, lastAppliedRevision: string) {
    return {
        apiVersion: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        metadata: { name, namespace: "flux-system" },
        spec: { sourceRef: { kind: "Bucket", name: "flux-bucket" }, path: "./", interval: "10m" },
        status: { lastAppliedRevision, conditions: ready },
    };
}

describe("bucketops status against moto_server and a stand-in Kubernetes API", () => {
    let moto: Moto;
    let kube: FakeKubeApi;
    let kubeconfig: string;
    let revision: string;
    before(async () => {
        [moto, kube] = await Promise.all([Moto.start(), FakeKubeApi.start()]);
        kubeconfig = kube.kubeconfig();
        await moto.createBucket("cluster-bucket");
        const tree = { ...manifestTree(["a"], "v1"), "README.md": "not deployed" };
        const run = await bucketops("push", writeTree(tree), "s3://cluster-bucket/clusters/dev", "--endpoint", moto.endpoint);
        assert.equal(run.code, 0, run.err);
        const kept = Object.keys(tree).filter((name) => !name.endsWith(".md")).sort();
        revision = sha256(kept.map((name) => `clusters/dev/${name} ${md5(tree[name as keyof typeof tree])}\n`).join(""));
        assert.notEqual(printedRevision(run), revision, "the Bucket's spec.ignore must change the revision");

        kube.buckets.set("flux-system/flux-bucket", {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "Bucket",
            metadata: { name: "flux-bucket", namespace: "flux-system" },
            spec: {
                provider: "generic",
                bucketName: "cluster-bucket",
                endpoint: moto.endpoint.replace("http://", ""),
                insecure: true,
                prefix: "clusters/dev/",
                ignore: "*.md",
                interval: "1m",
            },
            status: { artifact: { revision }, conditions: ready },
        });
    });
    after(() => {
        kube?.close();
        moto?.stop();
    });

    it("says the cluster is behind (exit 3) until every Kustomization applied the bucket's revision", async () => {
        kube.kustomizations = [kustomization("apps", revision), kustomization("infra", "sha256:" + "0".repeat(64))];
        const behind = await bucketops("status", "--kubeconfig", kubeconfig);
        assert.equal(behind.code, 3, behind.err);
        assert.match(behind.out, new RegExp(`bucket s3://cluster-bucket/clusters/dev/ .*: ${revision}, 2 object\\(s\\)`));
        assert.match(behind.out, new RegExp(`Bucket flux-system/flux-bucket: ${revision}, Ready=True: up to date`));
        assert.match(behind.out, /Kustomization flux-system\/apps: .* up to date/);
        assert.match(behind.out, /Kustomization flux-system\/infra: sha256:0{64}, Ready=True: behind/);
        assert.match(behind.out, /cluster has NOT caught up/);

        kube.kustomizations[1].status.lastAppliedRevision = revision;
        const caughtUp = await bucketops("status", "--kubeconfig", kubeconfig);
        assert.equal(caughtUp.code, 0, caughtUp.err);
        assert.match(caughtUp.out, /cluster has caught up with the bucket/);
        assert.equal(kube.patches.length, 0, "status alone changes nothing");
    });

    it("--reconcile sets reconcile.fluxcd.io/requestedAt with a merge patch, as flux reconcile does", async () => {
        const before = Date.now();
        const run = await bucketops("status", "--kubeconfig", kubeconfig, "--reconcile");
        assert.equal(run.code, 0, run.err);
        assert.equal(kube.patches.length, 1);
        const [patch] = kube.patches;
        assert.equal(patch.path, "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/buckets/flux-bucket");
        assert.equal(patch.contentType, "application/merge-patch+json");
        const requestedAt = patch.body.metadata!.annotations!["reconcile.fluxcd.io/requestedAt"];
        assert.match(requestedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
        assert.ok(Date.parse(requestedAt) >= before - 1000 && Date.parse(requestedAt) <= Date.now());
        assert.match(run.out, /requested reconciliation of Bucket flux-system\/flux-bucket/);
    });

    it("--wait polls until the last Kustomization has applied the revision, or gives up with exit 3", async () => {
        kube.kustomizations = [kustomization("apps", "sha256:" + "1".repeat(64))];
        const gaveUp = await bucketops("status", "--kubeconfig", kubeconfig, "--wait", "0.3", "--interval", "0.1");
        assert.equal(gaveUp.code, 3, gaveUp.err);
        assert.match(gaveUp.out, /Kustomization flux-system\/apps: sha256:1{64}, Ready=True: behind/);

        const applied = setTimeout(() => (kube.kustomizations[0].status.lastAppliedRevision = revision), 400);
        try {
            const waited = await bucketops("status", "--kubeconfig", kubeconfig, "--wait", "20", "--interval", "0.1");
            assert.equal(waited.code, 0, waited.err);
            assert.match(waited.out, /Kustomization flux-system\/apps: sha256:[0-9a-f]{64}, Ready=True: up to date/);
            assert.doesNotMatch(waited.out, /behind/, "only the final report is printed");
        } finally {
            clearTimeout(applied);
        }
    });

    it("takes the kubeconfig and credentials from the infra stack outputs, the Bucket's name from the flux stack's", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "bucketops-outputs-"));
        const infra = path.join(dir, "infra.json");
        const flux = path.join(dir, "flux.json");
        writeFileSync(infra, JSON.stringify({ provider: "generic", kubeconfig: readFileSync(kubeconfig, "utf8"), writerAccessKeyId: "AKIDWRITER", writerSecretAccessKey: "secret" }));
        writeFileSync(flux, JSON.stringify({ infraStack: "organization/flux-bucket/dev", namespace: "gitops", bucket: "apps-bucket", kustomization: "apps" }));
        const bucket = structuredClone(kube.buckets.get("flux-system/flux-bucket")!);
        bucket.metadata = { name: "apps-bucket", namespace: "gitops" };
        kube.buckets.set("gitops/apps-bucket", bucket);
        kube.kustomizations = [{ ...kustomization("apps", revision), metadata: { name: "apps", namespace: "gitops" } }];
        (kube.kustomizations[0].spec.sourceRef as { name: string }).name = "apps-bucket";

        const run = await bucketops("status", "--from-stack-outputs", infra, "--from-stack-outputs", flux);
        assert.equal(run.code, 0, run.err);
        assert.match(run.out, /Bucket gitops\/apps-bucket: sha256:[0-9a-f]{64}, Ready=True: up to date/);
        assert.match(run.out, /Kustomization gitops\/apps: .* up to date/);
        assert.match(run.out, /cluster has caught up/);
    });

    it("names a missing Bucket object", async () => {
        const run = await bucketops("status", "--kubeconfig", kubeconfig, "--name", "nope");
        assert.equal(run.code, 1);
        assert.match(run.err, /^bucketops: Bucket flux-system\/nope not found/);
    });
});
