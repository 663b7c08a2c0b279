// @pulumi/aws's eks classes that eksCluster.ts uses, from their own modules (../sdk.ts says why).
export { Cluster } from "@pulumi/aws/eks/cluster.js";
export { NodeGroup } from "@pulumi/aws/eks/nodeGroup.js";
