export * from "./bucketSync.ts";
export * from "./install.ts";
