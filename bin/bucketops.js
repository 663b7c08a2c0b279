#!/bin/sh
':' //; case " $NODE_OPTIONS " in *semi[-_]space[-_]size*) exec node "$0" "$@" ;; esac; exec node --min-semi-space-size=2 --max-semi-space-size=4 "$0" "$@"
// The line above is sh's (to JavaScript a string and a comment): run as a program (`npx bucketops`, a PATH link), this
// file starts Node with V8's young generation between 2 and 4 MiB semi-spaces, unless NODE_OPTIONS sizes it. V8 sizes
// it for long-running servers, from 1 MiB growing to 16 (two of them resident), where a push lasts a second or a
// minute: the cap keeps a first deploy/ push 6 MiB and a 757- or 2,000-file one 45-90 MiB lower at the same speed,
// and starting at 2 saves the scavenges of loading the CLI (BENCHMARKS.md, "Eighth pass"). V8 reads both only as Node
// starts (v8.setFlagsFromString comes too late), and `#!/usr/bin/env -S node …` would fail on BusyBox's env (Alpine).
// `node bin/bucketops.js` runs without them.
//
// Node (22.18+, 24) runs the TypeScript CLI itself by stripping its types, so there is no build step. The compile
// cache keeps the stripped and compiled modules between runs (start-up time).
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
