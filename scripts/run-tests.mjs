#!/usr/bin/env node
// Runs every tests/**/*.test.ts with node's test runner (Node 20's --test has no globbing)
// and fails when no test ran, so an empty or mis-globbed suite cannot pass silently.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const only = process.argv.slice(2);

function findTests(dir) {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return findTests(full);
        return entry.name.endsWith(".test.ts") ? [full] : [];
    });
}

const files = (only.length ? only.map((f) => path.resolve(f)) : findTests(path.join(root, "tests"))).sort();
if (files.length === 0) {
    console.error("run-tests: no tests/**/*.test.ts files found");
    process.exit(1);
}

const tapDir = mkdtempSync(path.join(tmpdir(), "flux-bucket-tests-"));
const tapFile = path.join(tapDir, "report.tap");
const result = spawnSync(
    process.execPath,
    [
        "--import", "tsx",
        "--test",
        "--test-reporter=spec", "--test-reporter-destination=stdout",
        "--test-reporter=tap", `--test-reporter-destination=${tapFile}`,
        ...files,
    ],
    { cwd: root, stdio: "inherit" },
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
