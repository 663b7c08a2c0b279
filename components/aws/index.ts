export * from "./bucketCredentials.ts";
export * from "./fluxBucket.ts";
export * from "./policies.ts";
export * from "./versionedBucket.ts";
