import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { isBucketopsKey, isLeaseKey } from "../../src/bucket/keys.ts";
import { COMMIT_ANNOTATION, SUSPENDED_ANNOTATION } from "../../src/cli/publish.ts";
import { bucketops, revisionOf, type Run } from "./helpers/cli.ts";
import { FluxControllers, fluxStackApi, type ApiRequest, type ControllerOptions, type StrictFluxApi } from "../support/fluxApi.ts";
import { CrashingProxy } from "./helpers/proxy.ts";
import { apart, freePort, Moto } from "../support/moto.ts";
import { gitRepository, manifestTree, prefixed, writeTree } from "../support/trees.ts";

/** The object key of a path-style S3 request (`/bucket/key?query`). */
const keyOf = (url: string) => decodeURIComponent(url.split("?")[0].split("/").slice(2).join("/"));

const BIN = path.resolve(import.meta.dirname, "../../bin/bucketops.js");

// S3 is moto_server behind a recording proxy; the cluster is StrictFluxApi (the API server's rules for custom
// resources: merge patches, field managers, resourceVersion conflicts) with FluxControllers playing source-controller's
// and kustomize-controller's loops on their own, reading moto directly, while bucketops writes.
describe("atomic publish: push and rollback suspend the Flux Bucket around their writes and wait for the apply", () => {
    let moto: Moto;
    let proxy: CrashingProxy;
    let api: StrictFluxApi;
    let controllers: FluxControllers | undefined;
    let kubeconfig: string;
    let bucketName: string;
    let flags: string[];
    const url = () => `s3://${bucketName}/app`;

    before(async () => {
        moto = await Moto.start();
        proxy = await CrashingProxy.start(moto.endpoint, await freePort());
    });
    after(() => {
        controllers?.stop();
        api?.close();
        proxy?.close();
        moto?.stop();
    });
    beforeEach(async () => {
        controllers?.stop();
        controllers = undefined;
        api?.close();
        bucketName = await moto.freshBucket("atomic");
        api = await fluxStackApi(bucketName, proxy.endpoint, { prefix: "app/", path: "./app", kustomization: "apps" });
        kubeconfig = writeTree({ kubeconfig: api.kubeconfig() });
        flags = ["--endpoint", proxy.endpoint, "--kubeconfig", path.join(kubeconfig, "kubeconfig"), "--wait-timeout", "20"];
        proxy.onForward = () => undefined;
        proxy.onAnswered = () => undefined;
        api.onRequest = () => undefined;
    });

    /** bucketops' patches of the Bucket (not its Kustomizations' reconcile requests). */
    const patches = () => api.requests.filter((r) => r.method === "PATCH" && r.path.includes("/buckets/"));
    const startFlux = (options: Partial<ControllerOptions> = {}) => (controllers = FluxControllers.start(api, { s3Endpoint: moto.endpoint, retryMs: 200, ...options }));

    it("suspends the Bucket before the first write, resumes it with a reconcile request after the last, and waits for the apply", async () => {
        const tree = manifestTree(["a", "b"], "v1");
        await startFlux().idle(); // its first reconcile (the informer's initial list) stores the empty prefix
        const earlier = controllers!.artifacts.length;
        const writesWhileResumed: string[] = [];
        proxy.onForward = (request) => {
            const write = request.method !== "GET" && request.method !== "HEAD" && !isLeaseKey(keyOf(request.url));
            if (write && api.bucket.spec.suspend !== true) writesWhileResumed.push(`${request.method} ${request.url}`);
        };
        const run = await bucketops("push", writeTree(tree), url(), ...flags);
        assert.equal(run.code, 0, run.err);
        const revision = revisionOf(prefixed("app/", tree));
        assert.match(run.out, /^suspended Bucket flux-system\/flux-bucket: Flux fetches nothing until every write is done$/m);
        assert.match(run.out, /^resumed Bucket flux-system\/flux-bucket and requested a reconcile \(reconcile\.fluxcd\.io\/requestedAt=\S+\)$/m);
        assert.match(run.out, new RegExp(`^  Kustomization flux-system/apps: applied ${revision}$`, "m"));
        assert.match(run.out, new RegExp(`^applied: the cluster runs ${revision}$`, "m"));
        assert.deepEqual(writesWhileResumed, [], "every write to the bucket happened while the Bucket was suspended");

        const [suspend, resume] = patches();
        assert.equal(patches().length, 2);
        for (const patch of [suspend, resume]) {
            assert.equal(patch.contentType, "application/merge-patch+json");
            assert.equal(patch.query.get("fieldManager"), "bucketops");
            assert.match(patch.body!.metadata.resourceVersion, /^\d+$/, "conditional on the version read");
        }
        assert.equal(suspend.body!.spec.suspend, true);
        assert.match(suspend.body!.metadata.annotations[SUSPENDED_ANNOTATION], /\(pid \d+, push\) at \d{4}-/);
        assert.equal(resume.body!.spec.suspend, false);
        assert.equal(resume.body!.metadata.annotations[SUSPENDED_ANNOTATION], null, "the annotation is removed");
        assert.equal(resume.body!.metadata.annotations[COMMIT_ANNOTATION], null, "a tree outside git has no commit to name");
        assert.equal(api.bucket.metadata.annotations[SUSPENDED_ANNOTATION], undefined);
        assert.equal(api.bucket.status.lastHandledReconcileAt, resume.body!.metadata.annotations["reconcile.fluxcd.io/requestedAt"]);
        const fetched = controllers!.artifacts.slice(earlier);
        assert.deepEqual(fetched.map((a) => a.revision), [revision], "source-controller fetched once, the whole tree");
        assert.deepEqual(fetched[0].files, prefixed("app/", tree));
        // As `flux reconcile kustomization --with-source`: the Kustomization was asked to reconcile too.
        assert.ok(api.requests.some((r) => r.method === "PATCH" && r.path.endsWith("/kustomizations/apps") && r.body?.metadata.annotations["reconcile.fluxcd.io/requestedAt"]));
        assert.deepEqual(api.unexpected, []);
    });

    it("names the pushed commit on the Bucket for Flux's events (event.toolkit.fluxcd.io/commit)", async () => {
        const tree = manifestTree(["a"], "v1");
        const { dir, commit } = gitRepository(tree, "Add a");
        startFlux();
        const run = await bucketops("push", dir, url(), ...flags);
        assert.equal(run.code, 0, run.err);
        assert.equal(api.bucket.metadata.annotations[COMMIT_ANNOTATION], commit);
    });

    it("reads the Bucket again after a conflict on its patch", async () => {
        const tree = manifestTree(["a"], "v1");
        startFlux();
        api.conflicts = 1;
        const run = await bucketops("push", writeTree(tree), url(), ...flags);
        assert.equal(run.code, 0, run.err);
        assert.equal(patches().length, 3, "the conflicting patch, then suspend and resume");
        assert.equal(api.bucket.spec.suspend, false);
    });

    it("leaves a Bucket suspended by someone else alone, and does not wait for it", async () => {
        api.bucket.spec.suspend = true;
        api.bucket.metadata.annotations["fluxcd.controlplane.io/suspendedBy"] = "jane@example.com";
        startFlux();
        const pushed = await bucketops("push", writeTree(manifestTree(["a"], "v1")), url(), ...flags);
        assert.equal(pushed.code, 0, pushed.err);
        assert.match(pushed.out, /^note: Bucket flux-system\/flux-bucket is suspended, not by bucketops \(by jane@example\.com, fluxcd\.controlplane\.io\/suspendedBy\): left alone, and not waited for/m);
        assert.deepEqual(patches(), []);
        assert.equal(api.bucket.spec.suspend, true);
    });

    it("reports a revision Flux fetched other than the one computed (exit 5), and a wait that runs out (exit 6)", async () => {
        // Another writer that ignores the lease changes a key after bucketops computed the revision it waits for, and
        // before source-controller GETs it: Flux stores a revision bucketops did not compute.
        let resumedListing!: () => void;
        const listedAfterResume = new Promise<void>((resolve) => (resumedListing = resolve));
        // Armed once bucketops writes an object: a reconcile that started before the push (its GETs come before the
        // suspend) must not take the race, or it would hold the barrier and the writer would change the old state.
        // The writer goes once moto has answered bucketops' listing after the resume (the one it computes the revision
        // from), not when that listing is sent: moto could otherwise take the writer's PUT first, and bucketops would
        // compute the changed state, which Flux then fetches too.
        let armed = false;
        proxy.onForward = (request) => {
            if (request.method === "PUT" && !request.url.includes(".bucketops-")) armed = true;
        };
        proxy.onAnswered = (request) => {
            if (armed && request.method === "GET" && request.url.includes("list-type=2") && api.bucket.spec.suspend === false) resumedListing();
        };
        let raced = false;
        startFlux({
            beforeGet: async (key) => {
                if (!armed || raced || api.bucket.spec.suspend !== false) return;
                raced = true;
                await listedAfterResume;
                await moto.put(bucketName, key, "changed by a writer that ignores the lease\n");
            },
        });
        const mismatch = await bucketops("push", writeTree(manifestTree(["a"], "v1")), url(), ...flags);
        assert.equal(mismatch.code, 5, mismatch.err);
        assert.match(mismatch.err, /Bucket flux-system\/flux-bucket fetched sha256:[0-9a-f]{64}, not the sha256:[0-9a-f]{64} bucketops computed: Flux sees something else/);

        controllers!.pause(); // source-controller lists, then never gets the objects
        const slow = await bucketops("push", writeTree(manifestTree(["a"], "v2")), url(), ...flags.slice(0, -1), "1");
        assert.equal(slow.code, 6, slow.err);
        assert.match(slow.err, /^bucketops: timed out waiting for Bucket flux-system\/flux-bucket to fetch the bucket; the bucket holds sha256:/);
    });

    it("names the Kustomization that failed to apply (exit 5), and with --rollback-on-failure restores the state before and waits for it", async () => {
        const good = manifestTree(["a"], "v1");
        const bad = manifestTree(["a", "b"], "v2");
        const badRevision = revisionOf(prefixed("app/", bad));
        startFlux({ apply: (revision) => (revision === badRevision ? { reason: "HealthCheckFailed", message: "Deployment/apps/b not ready" } : undefined) });
        const dir = writeTree(good);
        assert.equal((await apart(() => bucketops("push", dir, url(), ...flags))).code, 0);

        writeTree(bad, dir);
        const failed = await apart(() => bucketops("push", dir, url(), ...flags));
        assert.equal(failed.code, 5, failed.err);
        assert.match(failed.err, /the cluster failed to apply sha256:[0-9a-f]{64}:\n {2}Kustomization flux-system\/apps: failed \(HealthCheckFailed\): Deployment\/apps\/b not ready/);
        assert.deepEqual(await moto.contents(bucketName, "app/"), prefixed("app/", bad), "without --rollback-on-failure the push stays");

        assert.equal((await apart(() => bucketops("rollback", url(), "--to", revisionOf(prefixed("app/", good)), ...flags))).code, 0);
        const rolledBack = await apart(() => bucketops("push", dir, url(), ...flags, "--rollback-on-failure"));
        assert.equal(rolledBack.code, 5, rolledBack.err);
        // The state before is the release the push replaced (release 3, the rollback above), restored exactly by number.
        assert.match(rolledBack.out, /rolling back to the prefix's previous state, release 3\ntarget: release 3 of /);
        assert.match(rolledBack.err, /rolled back to release 3, which the cluster applied$/);
        assert.deepEqual(await moto.contents(bucketName, "app/"), prefixed("app/", good));
        assert.equal(api.bucket.spec.suspend, false);
        assert.equal(api.kustomizations[0].status.lastAppliedRevision, revisionOf(prefixed("app/", good)));
    });

    it("without cluster access says the publish is not atomic, and writes files before the kustomizations that list them, deepest first", async () => {
        const tree = {
            "kustomization.yaml": "resources:\n  - team\n  - top.yaml\n",
            "top.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: top\n",
            "team/kustomization.yaml": "resources:\n  - cm.yaml\n",
            "team/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: team\n",
        };
        const puts: string[] = [];
        proxy.onForward = (request) => {
            if (request.method === "PUT" && !isBucketopsKey(keyOf(request.url))) puts.push(keyOf(request.url));
        };
        const run = await bucketops("push", writeTree(tree), url(), "--endpoint", proxy.endpoint);
        assert.equal(run.code, 0, run.err);
        assert.match(run.out, /^note: the publish is not atomic \(no cluster access/m);
        assert.deepEqual(puts.slice(2), ["app/team/kustomization.yaml", "app/kustomization.yaml"]);
        assert.deepEqual(new Set(puts.slice(0, 2)), new Set(["app/top.yaml", "app/team/cm.yaml"]));
        assert.deepEqual(api.requests, [], "no cluster was asked");
    });

    it("refuses to write when a given kubeconfig's cluster cannot be reached, and --no-cluster pushes without it", async () => {
        const closed = await freePort();
        const dir = writeTree({ kubeconfig: api.kubeconfig().replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${closed}`) });
        const tree = manifestTree(["a"], "v1");
        const refused = await bucketops("push", writeTree(tree), url(), "--endpoint", proxy.endpoint, "--kubeconfig", path.join(dir, "kubeconfig"));
        assert.equal(refused.code, 1);
        assert.match(refused.err, /cannot reach the Kubernetes API server .*\nNothing was changed: with a kubeconfig the push publishes atomically .* Pass --no-cluster to push without it/s);
        assert.deepEqual(await moto.contents(bucketName, "app/"), {});

        const pushed = await bucketops("push", writeTree(tree), url(), "--endpoint", proxy.endpoint, "--kubeconfig", path.join(dir, "kubeconfig"), "--no-cluster");
        assert.equal(pushed.code, 0, pushed.err);
        assert.match(pushed.out, /^note: the publish is not atomic/m);
    });

    /** `bucketops push` in a child process, SIGKILLed when `killAt` says so (a request to the cluster or to S3). */
    async function killedPush(dir: string, killAt: { cluster?: (r: ApiRequest) => boolean; s3?: (method: string, url: string) => boolean }): Promise<void> {
        const child = spawn(process.execPath, [BIN, "push", dir, url(), ...flags], { stdio: "ignore", env: { ...process.env } });
        const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
        const kill = () => child.kill("SIGKILL");
        api.onRequest = (request) => killAt.cluster?.(request) && kill();
        proxy.onForward = (request) => killAt.s3?.(request.method, request.url) && kill();
        await exited;
        api.onRequest = () => undefined;
        proxy.onForward = () => undefined;
    }

    for (const phase of ["after the suspend", "mid-upload", "before the resume", "while waiting"] as const) {
        it(`a push killed ${phase} leaves the Bucket safe, and the next push repairs it with nothing lost`, async () => {
            const v1 = manifestTree(["a", "b", "c"], "v1");
            const v2 = manifestTree(["a", "b", "c"], "v2");
            startFlux();
            const dir = writeTree(v1);
            assert.equal((await apart(() => bucketops("push", dir, url(), ...flags))).code, 0);
            writeTree(v2, dir);
            let contentPuts = 0;
            await apart(() =>
                killedPush(dir, {
                    "after the suspend": { cluster: (r: ApiRequest) => r.method === "PATCH" && r.body?.spec?.suspend === true },
                    "mid-upload": { s3: (method: string, url: string) => method === "PUT" && !isLeaseKey(keyOf(url)) && ++contentPuts === 2 },
                    "before the resume": { s3: (method: string, url: string) => method === "PUT" && keyOf(url).endsWith(".bucketops-release") },
                    "while waiting": { cluster: (r: ApiRequest) => r.method === "GET" && r.path.endsWith("/kustomizations") },
                }[phase]),
            );
            if (phase === "while waiting") {
                assert.equal(api.bucket.spec.suspend, false, "resumed before the wait");
            } else {
                assert.equal(api.bucket.spec.suspend, true, "Flux fetches nothing half-written");
                assert.ok(api.bucket.metadata.annotations[SUSPENDED_ANNOTATION]);
                // status sees the lease the killed push left and keeps the Bucket suspended.
                const status: Run = await bucketops("status", ...flags.slice(0, 4));
                assert.match(status.out, /^note: Bucket flux-system\/flux-bucket was suspended by bucketops \(.*\) and stays so: app\/\.bucketops-lock says/m);
                assert.equal(api.bucket.spec.suspend, true);
            }

            // The killed process (this user's, on this host) is provably gone: re-running takes its lease over, no --break-lock.
            const rerun = await apart(() => bucketops("push", dir, url(), ...flags));
            assert.equal(rerun.code, 0, rerun.err);
            assert.deepEqual(await moto.contents(bucketName, "app/"), prefixed("app/", v2));
            assert.equal(api.bucket.spec.suspend, false);
            assert.equal(api.bucket.metadata.annotations[SUSPENDED_ANNOTATION], undefined);
            assert.equal(api.kustomizations[0].status.lastAppliedRevision, revisionOf(prefixed("app/", v2)));
            assert.deepEqual(api.unexpected, []);
        });
    }

    it("resume: refuses while a lease says the prefix is half-written, unless --force; resumes a Bucket left suspended over a whole prefix", async () => {
        api.bucket.spec.suspend = true;
        api.bucket.metadata.annotations = { [SUSPENDED_ANNOTATION]: "ci@build-7 (pid 4242, push) at 2026-11-24T10:00:00.000Z" };
        await moto.put(bucketName, "app/.bucketops-lock", JSON.stringify({ id: "x", holder: "ci@build-7 (pid 4242)", host: "build-7", pid: 4242, command: "push", acquired: "2026-11-24T10:00:00.000Z", expires: "2026-11-24T10:01:00.000Z", state: "writing" }));
        const refused = await bucketops("resume", ...flags.slice(0, 4));
        assert.equal(refused.code, 1);
        assert.match(refused.err, /stays so: app\/\.bucketops-lock says a push or rollback is writing the prefix or stopped half-way/);
        assert.equal(api.bucket.spec.suspend, true);

        const forced = await bucketops("resume", ...flags.slice(0, 4), "--force");
        assert.equal(forced.code, 0, forced.err);
        assert.match(forced.out, /^resumed Bucket flux-system\/flux-bucket, which bucketops suspended \(ci@build-7/m);
        assert.equal(api.bucket.spec.suspend, false);

        api.bucket.spec.suspend = true;
        api.bucket.metadata.annotations = {};
        const foreign = await bucketops("resume", ...flags.slice(0, 4));
        assert.equal(foreign.out.trim(), "Bucket flux-system/flux-bucket is suspended, not by bucketops: left alone");
        assert.equal(api.bucket.spec.suspend, true);
    });
});
