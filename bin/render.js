#!/usr/bin/env node
// `npm run render`, in one Node process: the Node check and the compile cache (startTypeScript), then the render.
// src/render/main.ts switches the cache on too (a no-op here), for when it is run directly.
import { startTypeScript } from "./requireNode.js";

startTypeScript("npm run render");
await import("../src/render/main.ts");
