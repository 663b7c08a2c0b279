#!/usr/bin/env node
// `npm run render`, in one Node process. The Node check runs first, in plain JavaScript: an older Node cannot strip
// types and would fail with a raw ERR_UNKNOWN_FILE_EXTENSION stack trace. Then the compile cache, before any
// TypeScript loads: with every file's stripped and compiled code cached, Node does not even start its type stripper.
// src/render/main.ts switches it on too (a no-op here), for when it is run directly.
import module from "node:module";
import { unsupported } from "./requireNode.js";

const old = unsupported(process.versions.node, "npm run render");
if (old) {
    console.error(old);
    process.exit(1);
}
module.enableCompileCache?.();
await import("../src/render/main.ts");
