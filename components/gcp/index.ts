export * from "./bucketCredentials";
export * from "./fluxBucket";
export * from "./permissions";
export * from "./versionedBucket";
