#!/usr/bin/env node
// `npx bucketops`: Node (22.18+, 24) runs the TypeScript CLI itself by stripping its types, so there is no
// build step. The compile cache keeps the stripped and compiled modules between runs (start-up time).
import { startTypeScript } from "./requireNode.js";

startTypeScript("bucketops");
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
// Exit only once stdout and stderr have drained: to a pipe Node writes asynchronously, and process.exit() would cut
// off what a slow reader has not taken yet (`history --json | jq`). A reader that went away (EPIPE) ends it as well.
const drained = (stream) =>
    new Promise((resolve) => {
        stream.once("error", resolve);
        stream.write("", resolve);
    });
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
