// The classes of @pulumi/gcp that the gcp components use, each from its own module. The package's index (and each
// service's index, once imported as a module) loads every class of every service it names: about 170 modules and
// 50 ms of a render for @pulumi/gcp, where these need fifteen (tests/render/render.test.ts, "what a render loads").
// What an index adds besides the classes is the package's registration for turning resource and provider references
// that the engine sends back into objects (registerResourceModule, registerResourcePackage), which nothing in these
// stacks reads: their outputs are plain values. A program that imports "@pulumi/gcp" itself registers them as
// before. Types come with the classes: `gcp.storage.Bucket` is a value and a type as before.
export * as container from "./sdk/container.ts";
export * as iam from "./sdk/iam.ts";
export * as projects from "./sdk/projects.ts";
export * as serviceaccount from "./sdk/serviceaccount.ts";
export * as storage from "./sdk/storage.ts";
