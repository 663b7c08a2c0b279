export * from "./bucketCredentials.ts";
export * from "./bucketRole.ts";
export * from "./eksCluster.ts";
export * from "./fluxBucket.ts";
export * from "./githubActions.ts";
export * from "./policies.ts";
export * from "./versionedBucket.ts";
