import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";

const bin = path.resolve(import.meta.dirname, "../../bin/bucketops.js");

describe("the bucketops executable (bin/bucketops.js)", () => {
    it("lists its commands and exits 0 for --help", () => {
        const run = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        for (const command of ["push", "revision", "history", "rollback", "status"]) {
            assert.match(run.stdout, new RegExp(`^  ${command} `, "m"));
        }
    });

    it("prints one message on stderr and exits 2 for a bad URL", () => {
        const run = spawnSync(process.execPath, [bin, "revision", "ftp://bucket/x"], { encoding: "utf8" });
        assert.equal(run.status, 2);
        assert.equal(run.stdout, "");
        assert.equal(run.stderr.trim(), "bucketops: invalid bucket URL 'ftp://bucket/x': expected s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]");
    });
});
