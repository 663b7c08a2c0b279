// The classes of @pulumi/aws that the aws components and the infra stack use, each from its own module. The package's
// index (and each service's index, once imported as a module) loads every class of every service it names: about 320
// modules and 70-80 ms of a render for @pulumi/aws, where these need twenty (tests/render/render.test.ts, "what a
// render loads"). What an index adds besides the classes is the package's registration for turning resource and
// provider references that the engine sends back into objects (registerResourceModule, registerResourcePackage),
// which nothing in these stacks reads: their outputs are plain values. A program that imports "@pulumi/aws" itself
// registers them as before. Types come with the classes: `aws.s3.Bucket` is a value and a type as before.
export * as ec2 from "./sdk/ec2.ts";
export * as eks from "./sdk/eks.ts";
export * as iam from "./sdk/iam.ts";
export * as s3 from "./sdk/s3.ts";
export { Provider } from "@pulumi/aws/provider.js";
