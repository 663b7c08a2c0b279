import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { isLeaseKey } from "../../src/bucket/keys.ts";
import { FluxControllers, fluxStackApi, type StrictFluxApi } from "../support/fluxApi.ts";
import { CrashingProxy } from "./helpers/proxy.ts";
import { bucketops, md5, printedRevision, sha256, states } from "./helpers/cli.ts";
import { configMap, writeTree } from "../support/trees.ts";
import { promotableTree } from "./helpers/environments.ts";
import { apart, freePort, Moto } from "../support/moto.ts";

const BUCKET = "envs";

/** Flux's revision of a tree under a prefix (full keys, README.md ignored by the root .sourceignore). */
function revisionUnder(prefix: string, tree: Record<string, string>): string {
    const keys = Object.keys(tree).filter((key) => !key.endsWith(".md")).sort();
    return sha256(keys.map((key) => `${prefix}${key} ${md5(tree[key])}\n`).join(""));
}

describe("bucketops promote: one environment's release copied exactly to another prefix (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    const staging = `s3://${BUCKET}/staging/`;
    const prod = `s3://${BUCKET}/prod/`;
    const stagingRoot = ["--root-path", "./staging/clusters/staging", "--substitute-prefix"];
    const prodRoot = ["--root-path", "./prod/clusters/prod", "--substitute-prefix"];
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint, "--region", "us-east-1"];
        await moto.createBucket(BUCKET);
        await moto.put(BUCKET, ".sourceignore", "*.md\n");
    });
    after(() => moto?.stop());

    /** The current objects under a prefix, by key below it (release records left out). */
    const objectsUnder = async (prefix: string) =>
        Object.fromEntries(Object.entries(await moto.contents(BUCKET, prefix)).map(([key, body]) => [key.slice(prefix.length), body]));

    it("promotes staging's release to prod byte for byte, recorded as that release with its commit, and undoable", async () => {
        const v1 = promotableTree("v1");
        const v2 = promotableTree("v2");
        assert.equal((await bucketops("push", writeTree(v1), staging, ...endpoint, ...stagingRoot, "-m", "v1")).code, 0);
        const second = await bucketops("push", writeTree(v2), staging, ...endpoint, ...stagingRoot, "-m", "v2");
        assert.equal(second.code, 0, second.err);

        // The older release, by number.
        const first = await bucketops("promote", staging, prod, "--release", "1", ...endpoint, ...prodRoot);
        assert.equal(first.code, 0, first.err);
        assert.match(first.out, /validated 7 file\(s\) of the release as Flux will build them under prod\//);
        assert.match(first.out, /plan: 7 to copy, 0 to delete, 0 unchanged/);
        assert.deepEqual(await objectsUnder("prod/"), v1);
        assert.equal(printedRevision(first), revisionUnder("prod/", v1));

        // The current one, by default; then nothing to do.
        const current = await bucketops("promote", staging, prod, ...endpoint, ...prodRoot);
        assert.equal(current.code, 0, current.err);
        assert.match(current.out, /plan: 3 to copy, 0 to delete, 4 unchanged/);
        assert.deepEqual(await objectsUnder("prod/"), v2);
        assert.match(current.out, /undo with: bucketops rollback s3:\/\/envs\/prod\/ --to 1/);
        const again = await bucketops("promote", staging, prod, ...endpoint, ...prodRoot);
        assert.equal(again.code, 0, again.err);
        assert.match(again.out, /already holds release 2 of s3:\/\/envs\/staging\/: nothing to do/);

        const history = states(await bucketops("history", prod, "--json", ...endpoint));
        assert.deepEqual(
            history.map((state) => [state.number, state.release?.command, state.revision]),
            [
                [1, "promote", revisionUnder("prod/", v1)],
                [2, "promote", revisionUnder("prod/", v2)],
            ],
        );
        const record = history[1].release as Record<string, unknown>;
        const source = states(await bucketops("history", staging, "--json", ...endpoint))[1].release as Record<string, unknown>;
        assert.deepEqual(record.source, { url: staging, number: 2, id: source.id, revision: revisionUnder("staging/", v2) });
        assert.equal(record.message, "promote release 2 of s3://envs/staging/: v2");
        assert.deepEqual(record.replaced, { number: 1, revision: revisionUnder("prod/", v1) });
        const text = await bucketops("history", prod, ...endpoint);
        assert.match(text.out, /promote of release 2 of s3:\/\/envs\/staging\/ by /);

        // Undo by release: prod goes back to v1's content.
        const undo = await bucketops("rollback", prod, "--to", "1", ...endpoint);
        assert.equal(undo.code, 0, undo.err);
        assert.deepEqual(await objectsUnder("prod/"), v1);
        // Staging was only read.
        assert.deepEqual(await objectsUnder("staging/"), v2);
    });

    it("refuses a release whose Flux paths name the source's prefix, before writing anything, and says how to write them", async () => {
        const tree = promotableTree("literal");
        tree["clusters/prod/apps.yaml"] = tree["clusters/prod/apps.yaml"].replace("./${BUCKETOPS_PREFIX}apps/prod", "./qa/apps/prod");
        tree["clusters/staging/apps.yaml"] = tree["clusters/staging/apps.yaml"].replace("./${BUCKETOPS_PREFIX}apps/staging", "./qa/apps/staging");
        const pushed = await bucketops("push", writeTree(tree), `s3://${BUCKET}/qa/`, ...endpoint, "--root-path", "./qa/clusters/staging");
        assert.equal(pushed.code, 0, pushed.err);
        const refused = await bucketops("promote", `s3://${BUCKET}/qa/`, `s3://${BUCKET}/live/`, ...endpoint, "--root-path", "./live/clusters/prod");
        assert.equal(refused.code, 1);
        assert.match(
            refused.err,
            /clusters\/prod\/apps\.yaml: Kustomization\/apps: spec\.path: "\.\/qa\/apps\/prod" is outside the prefix live\/ this tree is pushed under; Flux keeps the prefix in artifact paths, so write \.\/live\/apps\/prod, or \.\/\$\{BUCKETOPS_PREFIX\}apps\/prod to use the same tree under every prefix/,
        );
        assert.match(refused.err, /nothing was uploaded/);
        assert.deepEqual(await objectsUnder("live/"), {});
        assert.deepEqual(await moto.versions(BUCKET, "live/"), [], "not even a lease or a release record");
    });

    it("refuses what is not a release of another prefix of the same bucket (exit 2, nothing written)", async () => {
        await moto.createBucket("other");
        const cases: [string[], RegExp][] = [
            [[staging, `s3://other/prod/`], /promote copies between two prefixes of one bucket \(its environments\), not from s3:\/\/envs\/staging\/ to s3:\/\/other\/prod\//],
            [[staging, `s3://${BUCKET}/staging/eu/`], /one prefix contains the other; allowed: two environments' prefixes that do not nest/],
            [[staging, `s3://${BUCKET}/`], /one prefix contains the other/],
            [[`s3://${BUCKET}/nothing/`, prod], /s3:\/\/envs\/nothing\/ has no release to promote: push to it first/],
            [[staging, prod, "--release", "9"], /--release 9: no release 9 under this prefix \(releases 1 to 2\)/],
        ];
        for (const [args, message] of cases) {
            const run = await bucketops("promote", ...args, ...endpoint, ...prodRoot);
            assert.equal(run.code, 2, `${args.join(" ")}: ${run.err}`);
            assert.match(run.err, message);
        }
        // A change no release records (another tool wrote staging/) is not promoted by default: its release is named.
        await moto.put(BUCKET, "staging/apps/staging/extra.yaml", configMap("extra", "x"));
        const external = await bucketops("promote", staging, prod, ...endpoint, ...prodRoot);
        assert.equal(external.code, 2);
        assert.match(external.err, /the current state of s3:\/\/envs\/staging\/ is an external change no release records \(sha256:[0-9a-f]{64}\): only a release is promoted, exactly as its manifest holds it; the latest release is 2 \('--release 2'\)/);
    });

    it("diff compares two environments: their current states, or the releases named (keys relative to each prefix)", async () => {
        const diff = (...args: string[]) => bucketops("diff", staging, prod, ...args, ...endpoint);
        // prod's release 2 is staging's release 2; prod's current state is release 3, the rollback to v1.
        const promoted = await diff("--from", "2", "--to", "2");
        assert.equal(promoted.code, 0, `${promoted.out}\n${promoted.err}`);
        assert.equal((await diff("--from", "1")).code, 0);
        const changed = await diff("--from", "2");
        assert.equal(changed.code, 1, changed.err);
        assert.match(changed.out, /--- a\/apps\/staging\/settings\.yaml/);
        assert.match(changed.out, /-.*staging-v2/);
        assert.match(changed.out, /\+.*staging-v1/);
    });
});

// The target environment's cluster is StrictFluxApi with FluxControllers playing source-controller's and
// kustomize-controller's loops on their own (tests/support/fluxApi.ts), reading moto directly while promote writes.
describe("bucketops promote publishes atomically on the target's cluster, waits for the apply, and rolls back on failure", () => {
    let moto: Moto;
    let proxy: CrashingProxy;
    let api: StrictFluxApi;
    let controllers: FluxControllers;
    const bucket = "atomic-promotions";
    const staging = `s3://${bucket}/staging/`;
    const prod = `s3://${bucket}/prod/`;
    let flags: string[];
    const keyOf = (url: string) => decodeURIComponent(url.split("?")[0].split("/").slice(2).join("/"));

    before(async () => {
        moto = await Moto.start();
        proxy = await CrashingProxy.start(moto.endpoint, await freePort());
        await moto.createBucket(bucket);
        await moto.put(bucket, ".sourceignore", "*.md\n");
        api = await fluxStackApi(bucket, proxy.endpoint, { prefix: "prod/", path: "./prod/clusters/prod", kustomization: "flux-bucket" });
        const kubeconfig = writeTree({ kubeconfig: api.kubeconfig() });
        flags = ["--endpoint", proxy.endpoint, "--region", "us-east-1", "--kubeconfig", path.join(kubeconfig, "kubeconfig"), "--wait-timeout", "20"];
    });
    after(() => {
        controllers?.stop();
        api?.close();
        proxy?.close();
        moto?.stop();
    });

    it("suspends prod's Bucket around every copy and delete, resumes it, and waits until prod's Kustomization applied the promoted revision", async () => {
        const stagingRoot = ["--root-path", "./staging/clusters/staging", "--substitute-prefix", "--no-cluster"];
        const prodRoot = ["--root-path", "./prod/clusters/prod", "--substitute-prefix"];
        const good = promotableTree("good");
        const bad = promotableTree("bad");
        for (const tree of [good, bad]) {
            const pushed = await apart(() => bucketops("push", writeTree(tree), staging, "--endpoint", moto.endpoint, "--region", "us-east-1", ...stagingRoot));
            assert.equal(pushed.code, 0, pushed.err);
        }
        const badRevision = revisionUnder("prod/", bad);
        controllers = FluxControllers.start(api, {
            s3Endpoint: moto.endpoint,
            retryMs: 200,
            apply: (revision) => (revision === badRevision ? { reason: "HealthCheckFailed", message: "ConfigMap/default/settings rejected" } : undefined),
        });
        await controllers.idle();
        const writesWhileResumed: string[] = [];
        proxy.onForward = (request) => {
            const write = request.method !== "GET" && request.method !== "HEAD" && !isLeaseKey(keyOf(request.url));
            if (write && keyOf(request.url).startsWith("prod/") && !keyOf(request.url).endsWith(".bucketops-release") && api.bucket.spec.suspend !== true) {
                writesWhileResumed.push(`${request.method} ${request.url}`);
            }
        };

        const first = await apart(() => bucketops("promote", staging, prod, "--release", "1", ...flags, ...prodRoot));
        assert.equal(first.code, 0, first.err);
        const goodRevision = revisionUnder("prod/", good);
        assert.match(first.out, /^suspended Bucket flux-system\/flux-bucket: Flux fetches nothing until every write is done$/m);
        assert.match(first.out, new RegExp(`^applied: the cluster runs ${goodRevision}$`, "m"));
        assert.equal(api.kustomizations[0].status.lastAppliedRevision, goodRevision);
        // What the cluster fetched is exactly the release under prod/.
        assert.deepEqual(
            controllers.artifacts.findLast((artifact) => artifact.revision === goodRevision)!.files,
            Object.fromEntries(Object.entries(good).filter(([key]) => !key.endsWith(".md")).map(([key, body]) => [`prod/${key}`, body])),
        );

        // Release 2 fails to apply: with --rollback-on-failure prod goes back to its release 1, under the same lease.
        const failed = await apart(() => bucketops("promote", staging, prod, ...flags, ...prodRoot, "--rollback-on-failure"));
        assert.equal(failed.code, 5, failed.err);
        assert.match(failed.err, /Kustomization flux-system\/flux-bucket: failed \(HealthCheckFailed\): ConfigMap\/default\/settings rejected/);
        assert.match(failed.out, /rolling back to s3:\/\/atomic-promotions\/prod\/'s previous state, release 1\ntarget: release 1 of /);
        assert.match(failed.err, /rolled back to release 1, which the cluster applied$/);
        assert.deepEqual(writesWhileResumed, [], "every copy and delete under prod/ happened while prod's Bucket was suspended");
        assert.equal(api.bucket.spec.suspend, false);
        assert.equal(api.kustomizations[0].status.lastAppliedRevision, goodRevision);
        const history = states(await bucketops("history", prod, "--json", "--endpoint", moto.endpoint, "--region", "us-east-1"));
        assert.deepEqual(history.map((state) => [state.number, state.release?.command]), [[1, "promote"], [2, "promote"], [3, "rollback"]]);
    });
});
