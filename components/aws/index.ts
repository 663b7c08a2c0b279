export * from "./bucketCredentials";
export * from "./fluxBucket";
export * from "./policies";
export * from "./versionedBucket";
