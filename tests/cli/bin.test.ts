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

    it("shows examples in each command's help, using only that command's flags", () => {
        for (const command of ["push", "revision", "history", "rollback", "status"]) {
            const run = spawnSync(process.execPath, [bin, command, "--help"], { encoding: "utf8" });
            assert.equal(run.status, 0, run.stderr);
            const [options, examples] = run.stdout.split("\nExamples:\n");
            assert.ok(examples, `${command} --help has an Examples: block`);
            const used = [...examples.matchAll(/^ {2}bucketops (\S+)(.*)$/gm)];
            assert.ok(used.length >= 2, `${command}: ${examples}`);
            for (const [, name, args] of used) {
                assert.equal(name, command);
                for (const [flag] of args.matchAll(/--[a-z-]+/g)) assert.match(options, new RegExp(`${flag}\\b`), `${command} --help lists ${flag}`);
            }
        }
    });

    it("prints one message on stderr and exits 2 for a bad URL", () => {
        const run = spawnSync(process.execPath, [bin, "revision", "ftp://bucket/x"], { encoding: "utf8" });
        assert.equal(run.status, 2);
        assert.equal(run.stdout, "");
        assert.equal(run.stderr.trim(), "bucketops: invalid bucket URL 'ftp://bucket/x': expected s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]");
    });
});
