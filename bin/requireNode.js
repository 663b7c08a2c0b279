// The Node check that runs before any TypeScript is loaded (bin/bucketops.js, `npm run render`): an older Node cannot
// strip types and would fail with a raw ERR_UNKNOWN_FILE_EXTENSION stack trace. Plain JavaScript on purpose.
import { readFileSync } from "node:fs";
import module from "node:module";

/** package.json's engines.node, e.g. "^22.18.0 || >=24.0.0": the one place the supported versions are written. */
export const SUPPORTED = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).engines.node;

/** Whether `version` (e.g. "20.19.0" or "v24.1.0") is in `range`: alternatives of ^X.Y.Z and >=X.Y.Z, joined by ||. */
export function satisfies(version, range = SUPPORTED) {
    const parse = (text) => text.replace(/^[v^>=\s]+/, "").split(".").map(Number);
    const compare = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
    const have = parse(version);
    return range.split("||").some((alternative) => {
        const wanted = alternative.trim();
        const floor = parse(wanted);
        if (wanted.startsWith("^")) return have[0] === floor[0] && compare(have, floor) >= 0;
        if (wanted.startsWith(">=")) return compare(have, floor) >= 0;
        throw new Error(`engines.node: cannot read '${wanted}'`);
    });
}

/** The message for an unsupported Node, or undefined when `version` is supported. */
export function unsupported(version, program) {
    if (satisfies(version)) return undefined;
    return (
        `${program} needs Node ${SUPPORTED} (it runs its TypeScript sources directly, which older Node cannot); this is Node ${version}. ` +
        `Install Node 24 (or 22.18 and later), e.g. 'nvm install 24', and run it again`
    );
}

/**
 * What an entry point (bin/bucketops.js, bin/render.js) does before it imports any TypeScript: on an old Node, exit 1
 * with the message; then Node's compile cache, so that every stripped and compiled file comes from it (with all of
 * them cached, Node does not even start its type stripper).
 */
export function startTypeScript(program) {
    const old = unsupported(process.versions.node, program);
    if (old) {
        console.error(old);
        process.exit(1);
    }
    module.enableCompileCache?.();
}
