import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import pLimit from "p-limit";
import { Moto } from "../support/moto.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/bucketops.js");
const KEYS = 20_000;

/**
 * A reader slower than bucketops writes: it takes 16 KiB, then waits 20 ms, so the pipe (64 KiB on Linux) fills and
 * Node's writes to it queue up. It prints how many states it parsed and how many keys they added in all.
 */
const SLOW_READER = `
let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("readable", function take() {
    const chunk = process.stdin.read(16384);
    if (chunk === null) return;
    text += chunk;
    process.stdin.pause();
    setTimeout(() => { process.stdin.resume(); take(); }, 20);
});
process.stdin.on("end", () => {
    const states = JSON.parse(text);
    console.log(states.length, states.reduce((sum, state) => sum + state.added.length, 0), text.length);
});
`;

describe("bucketops' output through a pipe to a slow reader (moto_server)", () => {
    let moto: Moto;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("piped");
        const limit = pLimit(64);
        await Promise.all(
            Array.from({ length: KEYS }, (_, i) => limit(() => moto.put("piped", `fleet/app-${Math.floor(i / 100)}/m-${i}.yaml`, `n: ${i}\n`))),
        );
    });
    after(() => moto?.stop());

    it(`history --json of a ${KEYS.toLocaleString("en")}-key prefix is whole: bucketops exits only when stdout has drained`, async () => {
        // The issue: process.exit() right after the last write cut the JSON off at 64–80 KiB, with exit 0.
        const command = `"$0" "$1" history s3://piped/fleet --json --endpoint "$2" | "$0" -e "$3"`;
        const { stdout } = await promisify(execFile)("bash", ["-o", "pipefail", "-c", command, process.execPath, BIN, moto.endpoint, SLOW_READER], {
            env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true" },
            maxBuffer: 1024 * 1024,
        });
        const [states, added, characters] = stdout.trim().split(" ").map(Number);
        // Other tools' writes: one change, or a few where moto paused for more than history's BURST_GAP_MS between two
        // of the 20,000 writes (a loaded machine); either way every key is in the output once.
        assert.ok(states >= 1 && states <= 5, `${states} states`);
        assert.equal(added, KEYS);
        assert.ok(characters > 10 * 64 * 1024, `the JSON (${characters} characters) is far more than a pipe holds`);
    });
});
