export * from "./bucketCredentials.ts";
export * from "./fluxBucket.ts";
export * from "./permissions.ts";
export * from "./versionedBucket.ts";
