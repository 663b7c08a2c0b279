// The resource's own module: the package's index loads all of its 36 resources and functions (@pulumi/civo 1.0.7).
// What the index adds besides them is the package's registration for turning resource references the engine sends
// back into objects, which nothing here reads.
import { KubernetesCluster } from "@pulumi/civo/kubernetesCluster.js";
import * as pulumi from "@pulumi/pulumi";

export interface ClusterArgs {
    /** Civo region code, e.g. `LON1`. */
    region: pulumi.Input<string>;
    /** Civo instance size of each node, e.g. `g4s.kube.medium`. */
    nodeSize: pulumi.Input<string>;
    /** Number of nodes, at least 1. */
    nodeCount: pulumi.Input<number>;
    /** k3s version such as `1.33.1-k3s1`; the flux2 chart needs Kubernetes 1.33 or newer. Unset: Civo's latest. */
    kubernetesVersion?: pulumi.Input<string>;
    /** Cluster name; unset, Pulumi generates one from the resource name. */
    clusterName?: pulumi.Input<string>;
}

/** A Civo k3s cluster whose kubeconfig is only ever handled as a secret. */
export class Cluster extends pulumi.ComponentResource {
    readonly cluster: KubernetesCluster;
    readonly kubeconfig: pulumi.Output<string>;
    readonly apiEndpoint: pulumi.Output<string>;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:civo:Cluster", name, {}, opts);

        this.cluster = new KubernetesCluster(
            name,
            {
                name: args.clusterName,
                region: args.region,
                numTargetNodes: args.nodeCount,
                targetNodesSize: args.nodeSize,
                kubernetesVersion: args.kubernetesVersion,
            },
            // The provider does not mark the kubeconfig secret; this keeps it encrypted in the state too.
            { parent: this, additionalSecretOutputs: ["kubeconfig"] },
        );

        this.kubeconfig = pulumi.secret(this.cluster.kubeconfig);
        this.apiEndpoint = this.cluster.apiEndpoint;
        this.registerOutputs({ kubeconfig: this.kubeconfig, apiEndpoint: this.apiEndpoint });
    }
}
