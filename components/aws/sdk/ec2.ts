// @pulumi/aws's ec2 functions that eksCluster.ts calls, from their own modules (../sdk.ts says why).
export { getSubnetsOutput } from "@pulumi/aws/ec2/getSubnets.js";
export { getVpcOutput } from "@pulumi/aws/ec2/getVpc.js";
