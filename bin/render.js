#!/usr/bin/env node
// `npm run render`: one Node process. The Node check runs first, in plain JavaScript (an older Node cannot strip
// types), then the compile cache is switched on before any TypeScript, the Pulumi SDK or a provider SDK is loaded:
// it keeps their compiled code between runs, which is most of a render's start-up (BENCHMARKS.md).
import module from "node:module";
import { unsupported } from "./requireNode.js";

const old = unsupported(process.versions.node, "npm run render");
if (old) {
    console.error(old);
    process.exit(1);
}
module.enableCompileCache?.();
await import("../src/render/main.ts");
