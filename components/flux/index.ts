export * from "./bucketSync";
export * from "./install";
