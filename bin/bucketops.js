#!/usr/bin/env node
// `npx bucketops`: Node (22.18+, 24) runs the TypeScript CLI itself by stripping its types, so there is no
// build step. The compile cache keeps the stripped and compiled modules between runs (start-up time).
import module from "node:module";
import { unsupported } from "./requireNode.js";

const old = unsupported(process.versions.node, "bucketops");
if (old) {
    console.error(old);
    process.exit(1);
}
module.enableCompileCache?.();
const { main } = await import("../src/cli/main.ts");
process.exit(await main(process.argv.slice(2)));
