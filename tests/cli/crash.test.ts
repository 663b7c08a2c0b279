import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bucketops, md5, printedRevision, sha256, states } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";
import { freePort, Moto } from "../support/moto.ts";
import { CrashingProxy } from "./helpers/proxy.ts";

// One attempt per request: the SDK's retry backoff would only slow down the failure under test.
process.env.AWS_MAX_ATTEMPTS = "1";

describe("a server that dies in the middle of a push", () => {
    let moto: Moto;
    let proxy: CrashingProxy;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("crashes");
        proxy = await CrashingProxy.start(moto.endpoint, await freePort());
    });
    after(() => {
        proxy?.close();
        moto?.stop();
    });

    it("leaves every key old or new, deletes nothing, and a re-run completes the push", async () => {
        const names = Array.from({ length: 24 }, (_, i) => `cm${String(i).padStart(2, "0")}`);
        const v1 = manifestTree(names, "v1");
        const dir = writeTree(v1);
        assert.equal((await bucketops("push", dir, "s3://crashes/app", "--endpoint", proxy.endpoint)).code, 0);

        const v2 = manifestTree(names.slice(0, 20), "v2"); // 21 changed files, 4 to prune
        writeTree(v2, dir);
        proxy.crashAfter(9); // after the lease and the listing, a few uploads in
        const crashed = await bucketops("push", dir, "s3://crashes/app", "--endpoint", proxy.endpoint, "--concurrency", "4");
        assert.equal(crashed.code, 1);
        assert.match(crashed.err, /^bucketops: cannot reach s3:\/\/crashes at http:\/\/127\.0\.0\.1:\d+ \(ECONN(REFUSED|RESET)\)/m);
        assert.match(crashed.err, /^warning: could not release the lease app\/\.bucketops-lock \(.*\): the next push or rollback by \S+ on this host takes it over at once; elsewhere, with --break-lock after /m);
        assert.match(crashed.err, /push stopped: \d+ of 21 object\(s\) written, nothing deleted/);
        assert.doesNotMatch(crashed.err, /did not answer/, "a dropped connection is not a silence");

        // The push could not release its lease either: it stays, naming the push, so history marks this state.
        const { "app/.bucketops-lock": lease, ...midway } = await moto.contents("crashes", "app/");
        assert.match(lease, /"command": "push",\n.*\n.*\n  "state": "writing"/s);
        assert.deepEqual(Object.keys(midway).sort(), Object.keys(v1).map((k) => `app/${k}`).sort(), "nothing deleted");
        let updated = 0;
        for (const [key, body] of Object.entries(midway)) {
            const name = key.slice("app/".length);
            assert.ok(body === v1[name] || body === v2[name], `${key} is neither old nor new: ${body}`);
            if (body === v2[name] && body !== v1[name]) updated++;
        }
        assert.ok(updated >= 1 && updated < 21, `a partial push: ${updated} of 21 updated`);

        await proxy.revive();
        const incomplete = await bucketops("history", "s3://crashes/app", "--endpoint", proxy.endpoint, "--json");
        assert.equal(states(incomplete).at(-1)!.incomplete, true, "the crashed push's state is incomplete");

        // "Re-run to finish" holds: the same user on the same host takes over a lease whose process is provably gone.
        const rerun = await bucketops("push", dir, "s3://crashes/app", "--endpoint", proxy.endpoint);
        assert.equal(rerun.code, 0, rerun.err);
        assert.match(rerun.out, /note: took over the lease app\/\.bucketops-lock: the push by \S+ \(pid \d+\) \(\S+\) stopped without letting go/);
        assert.match(rerun.out, new RegExp(`${21 - updated} to upload .* ${updated} unchanged, 4 to delete`));
        const final = await moto.contents("crashes", "app/");
        const expected = Object.fromEntries(Object.entries(v2).map(([k, v]) => [`app/${k}`, v]));
        assert.deepEqual(final, expected);
        const lines = Object.keys(expected).sort().map((key) => `${key} ${md5(expected[key])}\n`).join("");
        assert.equal(printedRevision(rerun), sha256(lines));
        const complete = await bucketops("history", "s3://crashes/app", "--endpoint", proxy.endpoint, "--json");
        assert.equal(states(complete).at(-1)!.incomplete, false, "the re-run's state is complete");
    });
});
