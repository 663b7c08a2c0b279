// @pulumi/gcp's serviceaccount classes that the gcp components use, from their own modules (../sdk.ts says why).
export { Account } from "@pulumi/gcp/serviceaccount/account.js";
export { IAMMember } from "@pulumi/gcp/serviceaccount/iammember.js";
export { Key } from "@pulumi/gcp/serviceaccount/key.js";
