import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { binNodeOptions, sdkFloorCommand } from "../../bench/tools.ts";
import { Moto, operationOf } from "../support/moto.ts";
import { manifestTree, writeTree } from "../support/trees.ts";

const bin = path.resolve(import.meta.dirname, "../../bin/bucketops.js");

// The bench's "SDK alone" rows are a floor only if the script starts Node as the bin does and does a sync's least work:
// one listing, and a PutObject of exactly the files that changed (a floor doing less would flatter bucketops).
describe("bench/sdkFloor.cjs: the floor under a push through the SDK", () => {
    let moto: Moto;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("floor");
    });
    after(() => moto?.stop());

    const run = async (dir: string, prefix: string) => {
        const { argv, env } = sdkFloorCommand(dir, "floor", prefix, moto.endpoint);
        const { result, requests } = await moto.recordRequests(async () => spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env: { ...process.env, ...env } }));
        assert.equal(result.status, 0, result.stderr);
        return requests.map((request) => `${operationOf(request)}${request.method === "PUT" ? ` ${request.path.split("/").slice(2).join("/").split("?")[0]}` : ""}`).sort();
    };

    it("lists the prefix once and puts the files whose MD5 is not the listed ETag, and only those", async () => {
        const tree = manifestTree(["a", "b"], "v1");
        const dir = writeTree(tree);
        const keys = Object.keys(tree).map((name) => `PUT object env/${name}`);
        assert.deepEqual(await run(dir, "env/"), ["LIST page", ...keys].sort());
        assert.deepEqual(await run(dir, "env/"), ["LIST page"]);
        writeTree({ ...tree, "a.yaml": manifestTree(["a"], "v2")["a.yaml"] }, dir);
        assert.deepEqual(await run(dir, "env/"), ["LIST page", "PUT object env/a.yaml"]);
    });

    it("starts Node with the options the bin starts it with", () => {
        const printExecArgv = "--import=data:text/javascript,process.stderr.write(JSON.stringify(process.execArgv)+'\\n');process.exit(0)";
        const options = binNodeOptions();
        const started = (argv: string[]) => {
            const result = spawnSync(argv[0], argv.slice(1), {
                encoding: "utf8",
                env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, NODE_OPTIONS: printExecArgv },
            });
            return JSON.parse(result.stderr.split("\n")[0]) as string[];
        };
        assert.ok(options.length > 0);
        assert.deepEqual(started([bin, "--version"]), options);
        assert.deepEqual(started(sdkFloorCommand(".", "floor", "", moto.endpoint).argv), options);
    });
});
