import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Moto } from "../support/moto.ts";
import { manifestTree, writeTree } from "../support/trees.ts";

// Start-up time: a command loads only what it uses (issue 28). Each run is the real executable under a module hook
// that lists every module it loaded; the assertions are about which packages, not about time.
const bin = path.resolve(import.meta.dirname, "../../bin/bucketops.js");
const hook = path.resolve(import.meta.dirname, "../support/loadedModules.mjs");

/** The packages that take most of a start-up: the cloud SDKs, the Kubernetes client, the validator and the secret scan. */
const HEAVY = ["@aws-sdk/", "@smithy/", "@google-cloud/storage", "@kubernetes/client-node", "ajv", "@bufbuild/", "kubernetes-models", "@kubernetes-models/", "yaml", "@secretlint/", "diff", "cli-progress"];
/** What validation loads (the S3 SDK is loaded by every push). */
const VALIDATOR = ["ajv", "@bufbuild/", "kubernetes-models", "@kubernetes-models/", "yaml"];

interface Loaded {
    code: number;
    out: string;
    err: string;
    packages: Set<string>;
    /** bucketops' own modules, by path (src/cli/push.ts). */
    sources: Set<string>;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Loaded> {
    const log = path.join(mkdtempSync(path.join(tmpdir(), "bucketops-loaded-")), "modules");
    const child = spawn(process.execPath, ["--import", hook, bin, ...args], {
        env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", ...env, LOADED_MODULES_LOG: log },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    const code = await new Promise<number>((resolve) => child.once("close", (status) => resolve(status ?? 1)));
    const urls = readFileSync(log, "utf8").split("\n");
    const packages = new Set(urls.flatMap((url) => url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? []));
    const sources = new Set(urls.flatMap((url) => (url.includes("/node_modules/") ? [] : (url.match(/\/(src\/.*\.ts)$/)?.[1] ?? []))));
    return { code, out, err, packages, sources };
}

const among = (packages: Set<string>, names: string[]) => [...packages].filter((name) => names.some((heavy) => (heavy.endsWith("/") ? name.startsWith(heavy) : name === heavy)));

describe("what a command loads (start-up time)", () => {
    it("--help and a command's --help load commander and bucketops' own modules, none of the heavy packages", async () => {
        for (const args of [["--help"], ["push", "--help"], ["status", "--help"]]) {
            const help = await run(args);
            assert.equal(help.code, 0, help.err);
            assert.match(help.out, /^Usage: bucketops/m);
            assert.deepEqual(among(help.packages, HEAVY), [], `bucketops ${args.join(" ")}`);
            assert.ok(help.packages.has("commander"), "the hook saw the packages it loaded");
        }
    });

    describe("push (moto_server)", () => {
        let moto: Moto;
        before(async () => {
            moto = await Moto.start();
            await moto.createBucket("loading");
        });
        after(() => moto?.stop());

        it("validates a new tree (loading the validator), and a re-push of the same tree neither validates nor loads it", async () => {
            const dir = writeTree(manifestTree(["a", "b"], "v1"));
            const env = { BUCKETOPS_CACHE_DIR: mkdtempSync(path.join(tmpdir(), "bucketops-cache-")) };
            const push = ["push", dir, "s3://loading/app", "--endpoint", moto.endpoint, "--region", "us-east-1"];
            const first = await run(push, env);
            assert.equal(first.code, 0, first.err);
            assert.match(first.out, /^validated 3 file\(s\) in \S+$/m);
            assert.ok(first.packages.has("ajv") && first.packages.has("yaml"), "a tree not validated before is schema-checked");
            assert.deepEqual(among(first.packages, ["@bufbuild/"]), [], "no CEL rule applies to a ConfigMap: CEL is not loaded");
            assert.ok(first.packages.has("@secretlint/core"), "and scanned for secrets");

            const again = await run(push, env);
            assert.equal(again.code, 0, again.err);
            assert.match(again.out, /^validated 3 file\(s\) in \S+: the same content passed before/m);
            assert.match(again.out, /^uploaded 0, deleted 0, unchanged 3$/m);
            assert.deepEqual(among(again.packages, [...VALIDATOR, "@secretlint/", "@google-cloud/storage", "@kubernetes/client-node", "cli-progress"]), []);
            assert.ok(again.packages.has("@aws-sdk/client-s3"), "the push talked to S3");
            // Nor what only a push that writes runs: the guarded write, the release record, the cluster's side.
            const writing = ["src/cli/guardedWrite.ts", "src/cli/apply.ts", "src/cli/provenance.ts", "src/cli/publish.ts", "src/cli/cluster.ts", "src/cli/readiness.ts"];
            assert.ok(first.sources.has("src/cli/push.ts") && writing.every((source) => first.sources.has(source)), [...first.sources].join(" "));
            assert.deepEqual(writing.filter((source) => again.sources.has(source)), []);
        });
    });
});
