import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../../../components/civo/index.ts";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { only, runComponents } from "../../support/offline.ts";

describe("civo Cluster", () => {
    let run: OfflineRun;
    let cluster: Cluster;
    before(async () => {
        run = await runComponents(() => {
            cluster = new Cluster("k8s", { region: "FRA1", nodeSize: "g4s.kube.large", nodeCount: 3, kubernetesVersion: "1.33.1-k3s1" });
        });
    });

    test("creates the k3s cluster as configured", () => {
        const resource = only(run, "civo:index/kubernetesCluster:KubernetesCluster");
        assert.deepEqual(resource.inputs, { region: "FRA1", targetNodesSize: "g4s.kube.large", numTargetNodes: 3, kubernetesVersion: "1.33.1-k3s1" });
        assert.equal(resource.parent, only(run, "fluxbucket:civo:Cluster").urn);
    });

    test("only hands the kubeconfig on as a secret", async () => {
        assert.equal(await pulumi.isSecret(cluster.kubeconfig), true);
    });
});
