// @pulumi/gcp's container classes that gkeCluster.ts uses, from their own modules (../sdk.ts says why).
export { Cluster } from "@pulumi/gcp/container/cluster.js";
export { NodePool } from "@pulumi/gcp/container/nodePool.js";
