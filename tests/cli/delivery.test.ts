import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { isBucketopsKey } from "../../src/bucket/keys.ts";
import { SUSPENDED_ANNOTATION } from "../../src/cli/publish.ts";
import { bucketops, revisionOf } from "./helpers/cli.ts";
import { CrashingProxy } from "./helpers/proxy.ts";
import { FluxControllers, fluxStackApi, type ControllerOptions, type StrictFluxApi } from "../support/fluxApi.ts";
import { freePort, Moto } from "../support/moto.ts";
import { manifestTree, prefixed, writeTree } from "../support/trees.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/bucketops.js");

/** The object key of a path-style S3 request (`/bucket/key?query`). */
const keyOf = (url: string) => decodeURIComponent(url.split("?")[0].split("/").slice(2).join("/"));

/** Waits for `condition`, at most `ms`; true when it held. */
async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms; // monotonic: the wall clock may jump
    while (performance.now() < deadline) {
        if (await condition()) return true;
        await sleep(20);
    }
    return false;
}

// The delivery against source-controller's and kustomize-controller's loops running concurrently (FluxControllers,
// tests/support/fluxApi.ts, each rule citing source-controller v1.8.5 / kustomize-controller v1.8.5 / fluxcd/pkg):
// source-controller lists moto_server directly and GETs each key by name while bucketops writes through a proxy.
describe("delivery while Flux reconciles: the suspend barrier, foreign changes, the wait as Flux reports", () => {
    let moto: Moto;
    let proxy: CrashingProxy;
    let api: StrictFluxApi;
    let controllers: FluxControllers | undefined;
    let bucketName: string;
    let flags: string[];
    const url = () => `s3://${bucketName}/app`;
    const v1 = manifestTree(["a", "b", "c"], "v1");
    const v2 = manifestTree(["a", "b", "c", "d"], "v2"); // its kustomization.yaml lists d.yaml too
    const old = prefixed("app/", v1);
    const next = prefixed("app/", v2);
    const startFlux = (options: Partial<ControllerOptions> = {}) => (controllers = FluxControllers.start(api, { s3Endpoint: moto.endpoint, retryMs: 200, ...options }));

    before(async () => {
        moto = await Moto.start();
        proxy = await CrashingProxy.start(moto.endpoint, await freePort());
    });
    after(() => {
        proxy?.close();
        moto?.stop();
    });
    beforeEach(async () => {
        bucketName = await moto.freshBucket("delivery");
        api = await fluxStackApi(bucketName, proxy.endpoint, { prefix: "app/", path: "./app", kustomization: "apps" });
        const kubeconfig = writeTree({ kubeconfig: api.kubeconfig() });
        flags = ["--endpoint", proxy.endpoint, "--kubeconfig", path.join(kubeconfig, "kubeconfig"), "--wait-timeout", "30"];
        proxy.onForward = () => undefined;
        proxy.hold = () => undefined;
    });
    afterEach(() => {
        controllers?.stop();
        controllers = undefined;
        api?.close();
    });

    /** The prefix as a tool other than bucketops left it (no lease, no release record). */
    async function seed(tree: Record<string, string>): Promise<void> {
        for (const [key, body] of Object.entries(tree)) await moto.put(bucketName, key, body);
    }

    /**
     * A reconcile that listed `old` is in flight when the push starts; it GETs the keys once the push wrote every file
     * but kustomization.yaml (which the proxy holds until an artifact is stored), or after `patienceMs` of nothing written.
     */
    async function fetchInFlight(patienceMs: number): Promise<void> {
        await seed(old);
        const written = async () => {
            const now = await moto.contents(bucketName, "app/");
            return ["a", "b", "c"].every((name) => now[`app/${name}.yaml`] === next[`app/${name}.yaml`]);
        };
        let first = true;
        startFlux({
            beforeGet: async () => {
                if (!first) return;
                first = false;
                await until(written, patienceMs);
            },
        });
        const stored = controllers!.artifacts.length;
        proxy.hold = (request) => (request.method === "PUT" && keyOf(request.url) === "app/kustomization.yaml" ? until(() => controllers!.artifacts.length > stored, 3000).then(() => undefined) : undefined);
        await controllers!.listed();
    }

    it("a reconcile in flight when the push starts: Flux stores exactly the old or the new tree, never a mix (without the cluster, a mix)", async () => {
        // Without the barrier's protection (--no-cluster): the reconcile that listed the old tree GETs new files.
        await fetchInFlight(20_000);
        const unprotected = await bucketops("push", writeTree(v2), url(), ...flags, "--no-cluster");
        assert.equal(unprotected.code, 0, unprotected.err);
        await until(() => controllers!.artifacts.length > 0, 5000);
        const mixed = controllers!.artifacts[0];
        assert.notEqual(mixed.revision, revisionOf(old));
        assert.notEqual(mixed.revision, revisionOf(next));
        assert.equal(mixed.files["app/a.yaml"], next["app/a.yaml"]);
        assert.equal(mixed.files["app/kustomization.yaml"], old["app/kustomization.yaml"], "a mix: new files, the old kustomization.yaml");

        // With the cluster: the push waits until source-controller has seen the suspension before it writes.
        controllers!.stop();
        api.close();
        bucketName = await moto.freshBucket("delivery");
        api = await fluxStackApi(bucketName, proxy.endpoint, { prefix: "app/", path: "./app", kustomization: "apps" });
        flags[3] = path.join(writeTree({ kubeconfig: api.kubeconfig() }), "kubeconfig");
        await fetchInFlight(1500); // the barrier holds the writes back until this fetch is over
        const atomic = await bucketops("push", writeTree(v2), url(), ...flags);
        assert.equal(atomic.code, 0, atomic.err);
        assert.match(atomic.out, /^waiting up to 130 s for source-controller to finish any fetch in flight and see the suspension \(status\.lastHandledReconcileAt \S+, or status\.observedGeneration \d+\)$/m);
        for (const artifact of controllers!.artifacts) {
            const tree = artifact.revision === revisionOf(old) ? old : next;
            assert.deepEqual(artifact.files, tree, `artifact ${artifact.revision} is exactly the old or the new tree`);
        }
        assert.deepEqual(controllers!.artifacts.map((a) => a.revision), [revisionOf(old), revisionOf(next)]);
        assert.match(controllers!.history.join("\n"), /Bucket gen 2: suspended/, "the reconcile queued by the suspend patch saw it");
    });

    it("a Bucket never reconciled before (no conditions, so no observedGeneration when suspended): the barrier reads its reconcile request", async () => {
        api.bucket.status = {};
        // source-controller starts only now: its first reconcile finds the Bucket suspended.
        api.onPatched = (request) => {
            if (request.body?.spec?.suspend === true && !controllers) startFlux();
        };
        const pushed = await bucketops("push", writeTree(v2), url(), ...flags);
        assert.equal(pushed.code, 0, pushed.err);
        assert.match(controllers!.history[0], /^Bucket gen 2: suspended$/);
        assert.deepEqual(controllers!.artifacts.map((a) => a.revision), [revisionOf(next)]);
    });

    it("a requeue right after the suspend patch finds the Bucket suspended and fetches nothing", async () => {
        await seed(old);
        await startFlux().idle();
        const stored = controllers!.artifacts.length;
        api.onPatched = (request) => {
            // Someone asks for a reconcile the moment the Bucket is suspended (a webhook receiver, `flux reconcile`).
            if (request.body?.spec?.suspend === true) api.patch("Bucket", "flux-bucket", { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "by-a-receiver" } } });
        };
        let storedWhileWriting = -1;
        proxy.onForward = (request) => {
            if (request.method === "PUT" && !isBucketopsKey(keyOf(request.url))) storedWhileWriting = Math.max(storedWhileWriting, controllers!.artifacts.length - stored);
        };
        const pushed = await bucketops("push", writeTree(v2), url(), ...flags);
        assert.equal(pushed.code, 0, pushed.err);
        assert.equal(storedWhileWriting, 0, "nothing stored between the suspend and the last write");
        assert.deepEqual(controllers!.artifacts.slice(stored).map((a) => a.revision), [revisionOf(next)]);
        assert.equal(api.bucket.status.lastHandledReconcileAt, patchedRequest(), "the wait counted bucketops' own request");
    });

    /** The reconcile request of bucketops' resume patch. */
    const patchedRequest = () =>
        api.requests.filter((r) => r.method === "PATCH" && r.body?.spec?.suspend === false).at(-1)?.body?.metadata.annotations["reconcile.fluxcd.io/requestedAt"];

    it("a fetch error after the resume ends the wait at once with Flux's message (exit 5), not at --wait-timeout", async () => {
        startFlux({ fetchError: () => (api.bucket.spec.suspend === false ? "Access Denied (403)" : undefined) });
        await controllers!.idle();
        const started = Date.now();
        const failed = await bucketops("push", writeTree(v2), url(), ...flags.slice(0, -1), "120");
        assert.equal(failed.code, 5, failed.err);
        assert.ok(Date.now() - started < 15_000, `reported within seconds, not after 120 s (${Date.now() - started} ms)`);
        assert.match(
            failed.err,
            /^bucketops: Bucket flux-system\/flux-bucket failed to fetch the bucket \(BucketOperationFailed\): fetch from bucket '[^']+' failed: failed to get 'app\/[a-z]+\.yaml' object: Access Denied \(403\)$/m,
        );
        assert.ok(api.bucket.status.observedGeneration < api.bucket.metadata.generation, "source-controller did not record the generation: the failure is read from Ready's own");
    });

    it("a Bucket that stalls after the resume (a terminal error: observedGeneration recorded, no retry) fails the wait at once (exit 5)", async () => {
        const gate = "to use spec.serviceAccountName for provider authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller";
        startFlux({ stall: (bucket) => (bucket.spec.suspend === false && bucket.metadata.generation > 2 ? { reason: "FeatureGateDisabled", message: gate } : undefined) });
        await controllers!.idle();
        const failed = await bucketops("push", writeTree(v2), url(), ...flags.slice(0, -1), "120");
        assert.equal(failed.code, 5, failed.err);
        assert.equal(failed.err, `bucketops: Bucket flux-system/flux-bucket stalled (FeatureGateDisabled): ${gate}`);
        assert.equal(api.bucket.status.observedGeneration, api.bucket.metadata.generation, "a stall records the generation");
    });

    it("a Kustomization whose first apply fails (it never had an observedGeneration) fails the wait at once (exit 5)", async () => {
        api.kustomizations[0].status = {};
        api.kustomizations[0].metadata.generation = 1;
        startFlux({ apply: () => ({ reason: "BuildFailed", message: "kustomize build failed: accumulating resources" }) });
        await controllers!.idle();
        const started = Date.now();
        const failed = await bucketops("push", writeTree(v2), url(), ...flags.slice(0, -1), "120");
        assert.equal(failed.code, 5, failed.err);
        assert.ok(Date.now() - started < 15_000, `${Date.now() - started} ms`);
        assert.match(failed.err, /Kustomization flux-system\/apps: failed \(BuildFailed\): kustomize build failed: accumulating resources/);
        assert.equal(api.kustomizations[0].status.observedGeneration, undefined);
    });

    it("a resume by someone else while bucketops writes: the publish was not atomic, and says so; re-suspended by Flux Operator: left so", async () => {
        startFlux();
        await controllers!.idle();
        let resumed = false;
        proxy.onForward = (request) => {
            if (!resumed && request.method === "PUT" && !isBucketopsKey(keyOf(request.url))) {
                resumed = true;
                api.patch("Bucket", "flux-bucket", { spec: { suspend: false } }); // `flux resume source bucket`
            }
        };
        const pushed = await bucketops("push", writeTree(v1), url(), ...flags);
        assert.equal(pushed.code, 0, pushed.err);
        assert.match(pushed.err, /^warning: the publish was not atomic: Bucket flux-system\/flux-bucket was resumed by someone else while bucketops wrote/m);
        assert.equal(api.kustomizations[0].status.lastAppliedRevision, revisionOf(old), "then resumed with a request: Flux fetched the whole tree");

        // Flux Operator's UI resumes and suspends again, naming who (fluxcd.controlplane.io/suspendedBy).
        resumed = false;
        proxy.onForward = (request) => {
            if (!resumed && request.method === "PUT" && !isBucketopsKey(keyOf(request.url))) {
                resumed = true;
                api.patch("Bucket", "flux-bucket", { spec: { suspend: false }, metadata: { annotations: { [SUSPENDED_ANNOTATION]: null } } });
                api.patch("Bucket", "flux-bucket", { spec: { suspend: true }, metadata: { annotations: { "fluxcd.controlplane.io/suspendedBy": "jane@example.com" } } });
            }
        };
        const again = await bucketops("push", writeTree(v2), url(), ...flags);
        assert.equal(again.code, 0, again.err);
        assert.match(again.err, /^warning: the publish was not atomic: Bucket flux-system\/flux-bucket was resumed and suspended again by jane@example\.com \(fluxcd\.controlplane\.io\/suspendedBy\)/m);
        assert.match(again.out, /^note: Bucket flux-system\/flux-bucket was suspended again by jane@example\.com while bucketops wrote: left suspended, and not waited for$/m);
        assert.equal(api.bucket.spec.suspend, true);
    });

    it("a newer reconcile request by someone else is handled instead of bucketops' own: the wait counts it", async () => {
        startFlux();
        await controllers!.idle();
        let theirs: string | undefined;
        api.onPatched = (request) => {
            if (request.body?.spec?.suspend === false && !theirs) {
                theirs = new Date(Date.now() + 1).toISOString();
                api.patch("Bucket", "flux-bucket", { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": theirs } } });
            }
        };
        const pushed = await bucketops("push", writeTree(v2), url(), ...flags.slice(0, -1), "10");
        assert.equal(pushed.code, 0, pushed.err);
        assert.equal(api.bucket.status.lastHandledReconcileAt, theirs, "source-controller handled the newer request only");
        assert.match(pushed.out, /^applied: the cluster runs sha256:/m);
    });

    it("source-controller not running: the suspend barrier gives up after 2 × spec.timeout + 10 s, resumes the Bucket, writes nothing", async () => {
        api.bucket.spec.timeout = "100ms";
        const refused = await bucketops("push", writeTree(v2), url(), ...flags);
        assert.equal(refused.code, 1, refused.err);
        assert.match(refused.err, /^bucketops: source-controller did not see the suspension of Bucket flux-system\/flux-bucket within 10 s \(2 × its spec\.timeout 100ms, plus 10 s\): status\.lastHandledReconcileAt is unset, not the suspend's request \S+, and status\.observedGeneration 1, not generation 2\. .*Nothing was written, and the Bucket was resumed/m);
        assert.deepEqual(await moto.contents(bucketName, "app/"), {});
        assert.equal(api.bucket.spec.suspend, false);
        assert.equal(api.bucket.metadata.annotations[SUSPENDED_ANNOTATION], undefined);
    });

    /** `bucketops push` in a child process, sent `signal` once it printed a line matching `when`; its exit code and output. */
    async function signalledPush(dir: string, when: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; out: string; err: string }> {
        const child = spawn(process.execPath, [BIN, "push", dir, url(), ...flags], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        let sent = false;
        child.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            if (!sent && when.test(out)) {
                sent = true;
                child.kill(signal);
            }
        });
        child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
        return { code, out, err };
    }

    it("SIGTERM while waiting for the cluster: exit 143, the push complete, the lease let go, the Bucket resumed", async () => {
        startFlux();
        await controllers!.idle();
        controllers!.pause(); // source-controller never gets to the objects: the wait would run to --wait-timeout
        const stopped = await signalledPush(writeTree(v2), /^waiting up to \d+ s for the cluster to apply/m, "SIGTERM");
        assert.equal(stopped.code, 143, stopped.err);
        assert.match(stopped.err, /^bucketops: terminated \(SIGTERM\) while waiting for the cluster: every write is done and the Bucket resumed; 'bucketops status' shows what the cluster applies$/m);
        assert.deepEqual(await moto.contents(bucketName, "app/"), next, "no lease left");
        assert.equal(api.bucket.spec.suspend, false);
    });

    it("SIGTERM during the suspend barrier: nothing written, the Bucket resumed as it was, the lease let go", async () => {
        // No source-controller: the barrier would wait 2 × 60 s + 10 s.
        const stopped = await signalledPush(writeTree(v2), /^waiting up to \d+ s for source-controller/m, "SIGTERM");
        assert.equal(stopped.code, 143, stopped.err);
        assert.match(stopped.err, /^bucketops: terminated \(SIGTERM\) before anything was written: Bucket flux-system\/flux-bucket was resumed as it was$/m);
        assert.deepEqual(await moto.contents(bucketName, "app/"), {});
        assert.equal(api.bucket.spec.suspend, false);
        assert.equal(api.bucket.metadata.annotations[SUSPENDED_ANNOTATION], undefined);
    });
});
