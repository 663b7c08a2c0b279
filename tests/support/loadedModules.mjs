// `node --import tests/support/loadedModules.mjs …`: writes the URL of every module the process loaded, one a line,
// to the file named by LOADED_MODULES_LOG when it exits. What tests/cli/loading.test.ts reads.
import { writeFileSync } from "node:fs";
import module from "node:module";

const loaded = [];
module.registerHooks({
    load(url, context, nextLoad) {
        loaded.push(url);
        return nextLoad(url, context);
    },
});
process.on("exit", () => writeFileSync(process.env.LOADED_MODULES_LOG, loaded.join("\n") + "\n"));
