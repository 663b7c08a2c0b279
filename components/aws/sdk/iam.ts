// @pulumi/aws's iam classes that the aws components use, from their own modules (../sdk.ts says why).
export { AccessKey } from "@pulumi/aws/iam/accessKey.js";
export { OpenIdConnectProvider } from "@pulumi/aws/iam/openIdConnectProvider.js";
export { Role } from "@pulumi/aws/iam/role.js";
export { RolePolicy } from "@pulumi/aws/iam/rolePolicy.js";
export { RolePolicyAttachment } from "@pulumi/aws/iam/rolePolicyAttachment.js";
export { User } from "@pulumi/aws/iam/user.js";
export { UserPolicy } from "@pulumi/aws/iam/userPolicy.js";
