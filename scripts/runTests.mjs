#!/usr/bin/env node
// Runs tests/**/*.test.ts (or the files given) with node's test runner, which strips the types itself, and
// fails when no test ran: `node --test` exits 0 when its glob matches nothing, so an empty or mis-globbed
// suite would pass silently.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const files = process.argv.slice(2);

const tapDir = mkdtempSync(path.join(tmpdir(), "flux-bucket-tests-"));
const tapFile = path.join(tapDir, "report.tap");
// bucketops' validation cache starts empty for every run, so one run's passes never skip the next run's validations.
const env = { ...process.env, BUCKETOPS_CACHE_DIR: path.join(tapDir, "cache") };
// Most files wait on servers, subprocesses and timeouts rather than compute: two per core keeps the cores busy
// (node's default, one fewer than the cores, runs them one at a time on a 2-core machine).
const concurrency = Math.max(2, availableParallelism() * 2);
const result = spawnSync(
    process.execPath,
    [
        "--test",
        `--test-concurrency=${concurrency}`,
        "--test-reporter=spec", "--test-reporter-destination=stdout",
        "--test-reporter=tap", `--test-reporter-destination=${tapFile}`,
        ...(files.length ? files : ["tests/**/*.test.ts"]),
    ],
    { cwd: root, stdio: "inherit", env },
);
const tap = readFileSync(tapFile, "utf8");
rmSync(tapDir, { recursive: true, force: true });

const count = (name) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? 0);
const passed = count("pass");
const failed = count("fail");
console.log(`${passed} passed, ${failed} failed`);
if (result.status !== 0) process.exit(result.status ?? 1);
if (passed === 0) {
    console.error("run-tests: the runner finished without running a single test");
    process.exit(1);
}
