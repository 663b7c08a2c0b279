import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeManifestTree } from "../support/trees.ts";
import { bucketops } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";
import { freePort, Moto } from "../support/moto.ts";
import { CrashingProxy } from "./helpers/proxy.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/bucketops.js");
const packageVersion = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")).version;

describe("small mistakes, each caught with one message (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await moto.createBucket("plain", false);
        await moto.createBucket("rooted");
        await moto.createBucket("interrupted");
    });
    after(() => moto?.stop());

    it("bucketops --version prints the package's version", async () => {
        const run = await bucketops("--version");
        assert.equal(run.code, 0);
        assert.equal(run.out, packageVersion);
    });

    it("refuses to push to an unversioned bucket without --allow-unversioned, then warns", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        const refused = await bucketops("push", dir, "s3://plain/app", ...endpoint);
        assert.equal(refused.code, 2);
        assert.equal(
            refused.err,
            `bucketops: versioning is not enabled on s3://plain at ${moto.endpoint}: this push's overwrites and deletes would be permanent, ` +
                "and history and rollback could not undo them. Nothing was uploaded; turn versioning on (the infra stack does), or pass --allow-unversioned",
        );
        assert.deepEqual(await moto.contents("plain"), {});
        const allowed = await bucketops("push", dir, "s3://plain/app", ...endpoint, "--allow-unversioned");
        assert.equal(allowed.code, 0, allowed.err);
        assert.match(allowed.out, /^warning: versioning is not enabled on s3:\/\/plain at .*: overwrites and deletes are permanent$/m);
    });

    it("a push to the bucket root keeps the root .sourceignore it does not have, and says so", async () => {
        await moto.put("rooted", ".sourceignore", "*.md\n"); // as the infra stack writes it for environments
        const run = await bucketops("push", writeTree(manifestTree(["a"], "v1")), "s3://rooted", ...endpoint);
        assert.equal(run.code, 0, run.err);
        assert.match(run.out, /^note: kept the bucket's root \.sourceignore, which the tree does not have: Flux reads it for every prefix\./m);
        assert.equal((await moto.contents("rooted"))[".sourceignore"], "*.md\n");
    });

    it("--skip-build pushes a tree whose kustomize build fails, still checking every file's schema", async () => {
        // The build fails (a patch of an object no resource defines); each file on its own is valid.
        const tree: Record<string, string> = {
            ...manifestTree(["a"], "v1"),
            "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml\npatches:\n  - path: patch.yaml\n",
            "patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nobody\n  namespace: default\ndata:\n  value: x\n",
        };
        const built = await bucketops("push", writeTree(tree), "s3://rooted/skip", ...endpoint);
        assert.equal(built.code, 1);
        assert.match(built.err, /kustomize build failed/);
        const skipped = await bucketops("push", writeTree(tree), "s3://rooted/skip", ...endpoint, "--skip-build");
        assert.equal(skipped.code, 0, skipped.err);
        const invalid = await bucketops("push", writeTree({ ...tree, "a.yaml": tree["a.yaml"].replace(/value: .*/, "value: 5") }), "s3://rooted/skip", ...endpoint, "--skip-build");
        assert.equal(invalid.code, 1);
        assert.match(invalid.err, /a\.yaml: ConfigMap\/a: data\.value: must be string \(got 5\)/);
    });

    for (const [signal, code, said] of [["SIGINT", 130, "interrupted \\(Ctrl-C\\)"], ["SIGTERM", 143, "terminated \\(SIGTERM\\)"]] as const) {
        it(`${signal} during a push (${signal === "SIGINT" ? "Ctrl-C" : "CI cancellation, timeout"}) finishes the writes under way, starts no more, deletes nothing, says so, and a re-run finishes`, async () => {
            const root = writeTree({});
            const { fileCount } = writeManifestTree(root, 400);
            const prefix = `app-${signal}`;
            // Through a proxy, to see the uploads start; the first push's objects are there to be (not) pruned.
            const proxy = await CrashingProxy.start(moto.endpoint, await freePort());
            try {
                await moto.put("interrupted", `${prefix}/stale.yaml`, "left from an earlier push");
                const child = spawn(process.execPath, [BIN, "push", root, `s3://interrupted/${prefix}`, "--endpoint", proxy.endpoint, "--concurrency", "2"], {
                    stdio: ["ignore", "pipe", "pipe"],
                });
                let stderr = "";
                child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
                const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
                let done = false;
                void exited.then(() => (done = true));
                // Ten uploads sent (the lease is a PUT too, but not an upload): those under way finish after the signal.
                const uploads = () => proxy.requests.filter((r) => r.method === "PUT" && !r.url.includes(".bucketops-lock")).length;
                while (!done && uploads() < 10) await new Promise((r) => setTimeout(r, 20));
                assert.ok(!done, `the push ended before it was interrupted: ${stderr}`);
                child.kill(signal);
                const exitCode = await new Promise<number | null>((resolve) => child.once("close", resolve));
                assert.equal(exitCode, code, stderr);
                const written = Number(new RegExp(`push stopped: (\\d+) of ${fileCount} object\\(s\\) written, nothing deleted`).exec(stderr)?.[1]);
                assert.ok(written >= 10 && written < fileCount, stderr);
                assert.match(stderr, new RegExp(`^bucketops: ${said}\npush stopped: \\d+ of \\d+ object\\(s\\) written, nothing deleted; every key holds either its old or its new content\\. Re-run to finish\\.$`, "m"));
                const { [`${prefix}/.bucketops-lock`]: lease, ...contents } = await moto.contents("interrupted", `${prefix}/`);
                assert.equal(contents[`${prefix}/stale.yaml`], "left from an earlier push");
                assert.equal(Object.keys(contents).length, written + 1);
                assert.equal(JSON.parse(lease).state, "interrupted", "the lease marks the push as stopped part-way");

                // "Re-run to finish" is true: no --break-lock needed.
                const rerun = await bucketops("push", root, `s3://interrupted/${prefix}`, "--endpoint", moto.endpoint);
                assert.equal(rerun.code, 0, rerun.err);
                const after = await moto.contents("interrupted", `${prefix}/`);
                assert.equal(Object.keys(after).length, fileCount);
                assert.equal(after[`${prefix}/stale.yaml`], undefined, "pruned once every upload succeeded");
            } finally {
                proxy.close();
            }
        });
    }
});

describe("validation sees what Flux sees: files ignored by .sourceignore or spec.ignore (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await moto.createBucket("seen");
    });
    after(() => moto?.stop());

    const fluxKustomization = (path: string) =>
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\n" +
        `spec:\n  interval: 10m\n  prune: true\n  sourceRef:\n    kind: Bucket\n    name: flux-bucket\n  path: ${path}\n`;

    it("a broken file that Flux ignores does not block the push; the same file not ignored does", async () => {
        const tree = { ...manifestTree(["a"], "v1"), "drafts/broken.yaml": "kind: [unclosed\n" };
        const blocked = await bucketops("push", writeTree(tree), "s3://seen/one", ...endpoint);
        assert.equal(blocked.code, 1);
        assert.match(blocked.err, /drafts\/broken\.yaml: YAML syntax error/);
        const ignored = await bucketops("push", writeTree(tree), "s3://seen/one", ...endpoint, "--ignore", "drafts/");
        assert.equal(ignored.code, 0, ignored.err);
        // At the bucket root, the tree's own .sourceignore is the one Flux will read.
        const rooted = await bucketops("push", writeTree({ ...tree, ".sourceignore": "/drafts\n" }), "s3://seen", ...endpoint);
        assert.equal(rooted.code, 0, rooted.err);
    });

    it("refuses a Flux Kustomization whose path holds only files the bucket's root .sourceignore hides", async () => {
        await moto.put("seen", ".sourceignore", "# hide the apps of every environment\napps/\n");
        const tree = {
            "clusters/dev/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - apps.yaml\n",
            "clusters/dev/apps.yaml": fluxKustomization("./dev/apps"),
            ...Object.fromEntries(Object.entries(manifestTree(["a"], "v1")).map(([name, body]) => [`apps/${name}`, body])),
        };
        const dir = writeTree(tree);
        const run = await bucketops("push", dir, "s3://seen/dev", ...endpoint);
        assert.equal(run.code, 1);
        assert.equal(
            run.err,
            `bucketops: ${dir} is not a valid manifest tree, nothing was uploaded:\n1 manifest problem:\n` +
                `  ${dir}/clusters/dev/apps.yaml: Kustomization/apps: spec.path: "./dev/apps" holds nothing Flux would fetch: every file under it is ignored (the root .sourceignore or spec.ignore)`,
        );
        assert.deepEqual(await moto.contents("seen", "dev/"), {});
    });
});
