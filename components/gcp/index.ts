export * from "./bucketCredentials.ts";
export * from "./fluxBucket.ts";
export * from "./githubActions.ts";
export * from "./gkeCluster.ts";
export * from "./permissions.ts";
export * from "./versionedBucket.ts";
