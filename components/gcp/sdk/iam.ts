// @pulumi/gcp's iam classes that githubActions.ts uses, from their own modules (../sdk.ts says why).
export { WorkloadIdentityPool } from "@pulumi/gcp/iam/workloadIdentityPool.js";
export { WorkloadIdentityPoolProvider } from "@pulumi/gcp/iam/workloadIdentityPoolProvider.js";
