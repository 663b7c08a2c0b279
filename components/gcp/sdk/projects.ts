// @pulumi/gcp's projects classes that the gcp components use, from their own modules (../sdk.ts says why).
export { IAMCustomRole } from "@pulumi/gcp/projects/iamcustomRole.js";
export { IAMMember } from "@pulumi/gcp/projects/iammember.js";
