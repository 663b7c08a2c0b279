import * as gcp from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { execKubeconfig } from "../kubeconfig.ts";

export interface GkeClusterArgs {
    /** GCP project of the cluster; its workload pool is `<project>.svc.id.goog`. */
    project: pulumi.Input<string>;
    /** A zone (a zonal cluster, e.g. `europe-west1-b`) or a region (regional: `nodeCount` nodes in each of its zones). */
    location: pulumi.Input<string>;
    /** Minimum Kubernetes version of the control plane, e.g. `1.33`; the flux2 chart needs 1.33 or newer. Unset: the release channel's default. */
    version?: pulumi.Input<string>;
    /** Machine type of the nodes, e.g. `e2-standard-2`. */
    machineType: pulumi.Input<string>;
    /** Nodes per zone, at least 1. */
    nodeCount: pulumi.Input<number>;
    /** Let `pulumi destroy` delete the cluster (GKE's deletion protection off). Default: true. */
    deletable?: boolean;
    /** Labels on the cluster and its nodes. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A GKE Standard cluster with Workload Identity Federation for GKE (its workload pool, and the GKE metadata server on
 * every node, so pods never see the node's identity) and one node pool whose nodes run as a service account of their
 * own holding only `roles/container.defaultNodeServiceAccount`, not the project's default compute account.
 */
export class GkeCluster extends pulumi.ComponentResource {
    readonly cluster: gcp.container.Cluster;
    readonly nodePool: gcp.container.NodePool;
    readonly nodeServiceAccount: gcp.serviceaccount.Account;
    /** `<project>.svc.id.goog`: where the cluster's Kubernetes service accounts are IAM principals. */
    readonly workloadPool: pulumi.Output<string>;
    /** A kubeconfig that authenticates with `gke-gcloud-auth-plugin` (the caller's gcloud credentials); a secret. */
    readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:gcp:GkeCluster", name, {}, opts);
        const parent = { parent: this };
        const { project, location } = args;

        this.workloadPool = pulumi.interpolate`${project}.svc.id.goog`;
        // Account ids are project-wide and at most 30 characters: one per project, location and resource name.
        const accountId = pulumi
            .all([project, location])
            .apply(([p, l]) => `gke-nodes-${createHash("sha256").update([p, l, name].join("\0")).digest("hex").slice(0, 8)}`);
        this.nodeServiceAccount = new gcp.serviceaccount.Account(
            `${name}-nodes`,
            { project, accountId, displayName: pulumi.interpolate`flux-bucket ${name} nodes in ${location}` },
            parent,
        );
        const nodeRole = new gcp.projects.IAMMember(
            `${name}-nodes`,
            { project, role: "roles/container.defaultNodeServiceAccount", member: pulumi.interpolate`serviceAccount:${this.nodeServiceAccount.email}` },
            parent,
        );
        this.cluster = new gcp.container.Cluster(
            name,
            {
                project,
                location,
                minMasterVersion: args.version,
                // A cluster needs a node pool to be created; it is replaced by the one below.
                removeDefaultNodePool: true,
                initialNodeCount: 1,
                workloadIdentityConfig: { workloadPool: this.workloadPool },
                deletionProtection: args.deletable === false,
                resourceLabels: args.labels,
            },
            parent,
        );
        this.nodePool = new gcp.container.NodePool(
            name,
            {
                project,
                location,
                cluster: this.cluster.name,
                nodeCount: args.nodeCount,
                nodeConfig: {
                    machineType: args.machineType,
                    serviceAccount: this.nodeServiceAccount.email,
                    oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
                    workloadMetadataConfig: { mode: "GKE_METADATA" },
                    resourceLabels: args.labels,
                },
            },
            { parent: this, dependsOn: [nodeRole] },
        );

        this.kubeconfig = pulumi.secret(
            pulumi.all([this.cluster.name, this.cluster.endpoint, this.cluster.masterAuth, this.nodePool.id]).apply(([clusterName, endpoint, auth]) =>
                execKubeconfig({
                    name: clusterName,
                    server: `https://${endpoint}`,
                    certificateAuthorityData: auth.clusterCaCertificate!,
                    command: "gke-gcloud-auth-plugin",
                    installHint: "bucketops and kubectl call gke-gcloud-auth-plugin for a token: gcloud components install gke-gcloud-auth-plugin",
                    provideClusterInfo: true,
                }),
            ),
        );
        this.registerOutputs({ workloadPool: this.workloadPool, kubeconfig: this.kubeconfig });
    }
}
