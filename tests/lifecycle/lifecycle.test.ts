import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { LifecycleError } from "../../src/lifecycle/errors.ts";
import { down, preview, up, type ChangeSummary, type Delivery, type LifecycleIo, type Outputs, type StackRunner } from "../../src/lifecycle/lifecycle.ts";
import { credentialProblems, type CloudProbes } from "../../src/lifecycle/preflight.ts";
import { stackSet, type StackSet } from "../../src/lifecycle/stacks.ts";
import { treeProblems } from "../../src/lifecycle/tree.ts";
import { bucketopsDelivery } from "../../src/lifecycle/delivery.ts";
import { FakeKubeApi } from "../cli/helpers/kube.ts";
import { revisionOf } from "../cli/helpers/cli.ts";
import { setEnv } from "../support/env.ts";
import { Moto } from "../support/moto.ts";
import { manifestTree, prefixed, writeTree } from "../support/trees.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** A StackRunner that records each call, returns scripted outputs and fails where a test says. */
class RecordingRunner implements StackRunner {
    readonly calls: string[] = [];
    readonly deployed = new Map<string, Outputs>();
    missing: string[] = [];
    failing = new Set<string>();
    private readonly outputsOf: Record<string, Outputs>;

    constructor(outputsOf: Record<string, Outputs>, deployed: string[] = []) {
        this.outputsOf = outputsOf;
        for (const stack of deployed) this.deployed.set(stack, outputsOf[stack]);
    }

    async problems(stacks: string[]): Promise<string[]> {
        this.calls.push(`problems ${stacks.join(",")}`);
        return this.missing.map((stack) => `stack ${stack} does not exist`);
    }
    async outputs(stack: string): Promise<Outputs | undefined> {
        this.calls.push(`outputs ${stack}`);
        return this.deployed.get(stack);
    }
    async preview(stack: string): Promise<ChangeSummary> {
        this.calls.push(`preview ${stack}`);
        return { create: 3, same: 1 };
    }
    async previewDestroy(stack: string): Promise<ChangeSummary> {
        this.calls.push(`previewDestroy ${stack}`);
        return { delete: 4 };
    }
    async up(stack: string): Promise<Outputs> {
        this.calls.push(`up ${stack}`);
        if (this.failing.has(stack)) throw new Error(`error: update failed (${stack})`);
        this.deployed.set(stack, this.outputsOf[stack]);
        return this.outputsOf[stack];
    }
    async destroy(stack: string): Promise<void> {
        this.calls.push(`destroy ${stack}`);
        if (this.failing.has(stack)) throw new Error(`error: destroy failed (${stack})`);
        this.deployed.delete(stack);
    }
}

const INFRA: Outputs = { provider: "aws", bucketName: "flux-bucket-1a2b", writerAccessKeyId: "AKIDWRITER", writerSecretAccessKey: "writer-secret" };
const FLUX: Outputs = { infraStack: "organization/flux-bucket/dev", namespace: "flux-system", bucket: "flux-bucket", prefix: "", kustomization: "flux-bucket" };
const STACKS: StackSet = { ...stackSet(ROOT, "dev") };

/** A Delivery that records what it was handed (the very output objects the runner returned). */
function recordingDelivery(calls: string[], handed: Outputs[] = []): Delivery {
    return {
        async push(tree, infra, flux) {
            calls.push(`push ${tree}`);
            handed.push(infra, flux);
            return "sha256:feed";
        },
        async waitFor(infra, flux) {
            calls.push(`wait ${flux.namespace}/${flux.bucket}`);
            return true;
        },
    };
}

function io(answers: boolean[] = []): LifecycleIo & { lines: string[]; questions: string[] } {
    const lines: string[] = [];
    const questions: string[] = [];
    return {
        lines,
        questions,
        log: (line) => lines.push(line),
        confirm: async (question) => {
            questions.push(question);
            return answers.shift() ?? false;
        },
    };
}

describe("npm run up / down / preview: the order of the stacks and the upload (a recording StackRunner)", () => {
    it("finds each infra stack's flux stacks in the project's stack files, as the flux program resolves infraStack", () => {
        assert.deepEqual(stackSet(ROOT, "dev").flux, ["dev-flux"]);
        assert.deepEqual(stackSet(ROOT, "fleet").flux, ["fleet-flux"]);
        assert.deepEqual(stackSet(ROOT, "gcp-dev").flux, ["gcp-dev-flux"]);

        const project = mkdtempSync(path.join(tmpdir(), "flux-bucket-lifecycle-"));
        writeFileSync(path.join(project, "Pulumi.yaml"), "name: flux-bucket\nruntime: nodejs\n");
        writeFileSync(path.join(project, "Pulumi.shared.yaml"), "config:\n  flux-bucket:layer: infra\n  flux-bucket:cluster: existing\n  flux-bucket:kubeconfig: x\n");
        writeFileSync(path.join(project, "Pulumi.eu.yaml"), "config:\n  flux-bucket:layer: flux\n  flux-bucket:infraStack: acme/flux-bucket/shared\n");
        writeFileSync(path.join(project, "Pulumi.other.yaml"), "config:\n  flux-bucket:layer: flux\n  flux-bucket:infraStack: acme/other-project/shared\n");
        writeFileSync(path.join(project, "Pulumi.shared-flux.yaml"), "config:\n  flux-bucket:layer: flux\n");
        writeFileSync(path.join(project, "Pulumi.us.yaml"), "config:\n  flux-bucket:layer: flux\n  flux-bucket:infraStack: acme/flux-bucket/shared\n  flux-bucket:kubeconfig: y\n");
        assert.deepEqual(stackSet(project, "shared").flux, ["eu", "shared-flux", "us"]);
        assert.deepEqual(stackSet(project, "shared").ownCluster, ["us"]);
        assert.deepEqual(stackSet(project, "shared").prefixes, { eu: "", "shared-flux": "", us: "" });
        assert.deepEqual(stackSet(ROOT, "fleet").prefixes, { "fleet-flux": "prod/" }, "an environment's flux stack pushes to its prefix");
        assert.throws(() => stackSet(project, "eu"), { message: `"eu" is a flux stack: pass the infra stack it reads (acme/flux-bucket/shared); its flux stacks follow it` });
        assert.throws(() => stackSet(project, "nope"), { message: 'no stack "nope": Pulumi.nope.yaml does not exist; stacks here: eu, other, shared, shared-flux, us' });
    });

    it("up: previews and deploys the infra stack, then the flux stack, then pushes with the outputs in memory and waits", async () => {
        const runner = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        const handed: Outputs[] = [];
        const out = io();
        await up({ stacks: STACKS, tree: "deploy", yes: true, from: "infra", credentialProblems: [] }, runner, recordingDelivery(runner.calls, handed), out);
        assert.deepEqual(runner.calls, ["problems dev,dev-flux", "preview dev", "up dev", "preview dev-flux", "up dev-flux", "push deploy", "wait flux-system/flux-bucket"]);
        assert.equal(handed[0], INFRA, "the push gets the object Pulumi returned, not a copy read back from a file");
        assert.equal(handed[1], FLUX);
        assert.deepEqual(out.questions, []);
        assert.deepEqual(out.lines, [
            "dev: 3 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged",
            "dev-flux: 3 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged",
            "s3://flux-bucket-1a2b/: sha256:feed",
            "up: pulumi up dev; pulumi up dev-flux; push deploy to s3://flux-bucket-1a2b/ (dev-flux); wait for dev-flux's cluster",
        ]);
    });

    it("up asks before each stack, and a no stops there (exit 3) with nothing more changed", async () => {
        const runner = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        const out = io([true, false]);
        await assert.rejects(
            up({ stacks: STACKS, tree: "deploy", yes: false, from: "infra", credentialProblems: [] }, runner, recordingDelivery(runner.calls), out),
            { name: "DeclinedError", exitCode: 3, message: "not deploying dev-flux: declined; nothing more was changed" },
        );
        assert.deepEqual(out.questions, ["Deploy dev?", "Deploy dev-flux?"]);
        assert.deepEqual(runner.calls, ["problems dev,dev-flux", "preview dev", "up dev", "preview dev-flux"]);
    });

    it("up stops at the first failure, says what was done and how to resume, and resuming skips what succeeded", async () => {
        const runner = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        runner.failing.add("dev-flux");
        await assert.rejects(up({ stacks: STACKS, tree: "deploy", yes: true, from: "infra", credentialProblems: [] }, runner, recordingDelivery(runner.calls), io()), {
            name: "LifecycleError",
            message:
                "pulumi up dev-flux failed: error: update failed (dev-flux)\ndone: pulumi up dev\nresume with: npm run up -- --stack dev --tree deploy --from flux",
        });
        assert.ok(!runner.calls.some((call) => call.startsWith("push")), "nothing is pushed when Flux is not installed");

        runner.failing.clear();
        runner.calls.length = 0;
        await up({ stacks: STACKS, tree: "deploy", yes: true, from: "flux", credentialProblems: [] }, runner, recordingDelivery(runner.calls), io());
        assert.deepEqual(runner.calls, ["problems dev,dev-flux", "outputs dev", "preview dev-flux", "up dev-flux", "push deploy", "wait flux-system/flux-bucket"]);

        runner.calls.length = 0;
        await up({ stacks: STACKS, tree: "deploy", yes: true, from: "wait", credentialProblems: [] }, runner, recordingDelivery(runner.calls), io());
        assert.deepEqual(runner.calls, ["problems dev,dev-flux", "outputs dev", "outputs dev-flux", "wait flux-system/flux-bucket"]);
    });

    it("up does not wait for a flux stack on a cluster of its own (its kubeconfig is not in the outputs), and says how to check it", async () => {
        const runner = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        const out = io();
        await up({ stacks: { ...STACKS, ownCluster: ["dev-flux"] }, tree: "deploy", yes: true, from: "infra", credentialProblems: [] }, runner, recordingDelivery(runner.calls), out);
        assert.ok(!runner.calls.some((call) => call.startsWith("wait")));
        assert.ok(out.lines.includes("dev-flux installs Flux on a cluster of its own, whose kubeconfig is not in the outputs: check it with bucketops status --kubeconfig <its kubeconfig>"));
    });

    it("up resumed on a stack that was never deployed says so", async () => {
        const runner = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        await assert.rejects(up({ stacks: STACKS, tree: "deploy", yes: true, from: "push", credentialProblems: [] }, runner, recordingDelivery(runner.calls), io()), {
            message: "dev has no outputs: it was never deployed; run npm run up without --from",
        });
    });

    it("a missing stack or missing cloud credentials stop everything before the first preview, all named at once", async () => {
        const runner = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        runner.missing = ["dev-flux"];
        const problems = ["dev creates a Civo cluster: set CIVO_TOKEN (or pulumi config set --secret civo:token --stack dev)"];
        await assert.rejects(up({ stacks: STACKS, tree: "deploy", yes: true, from: "infra", credentialProblems: problems }, runner, recordingDelivery(runner.calls), io()), {
            name: "LifecycleError",
            message: `nothing was changed:\n  - stack dev-flux does not exist\n  - ${problems[0]}`,
        });
        assert.deepEqual(runner.calls, ["problems dev,dev-flux"]);
    });

    it("up checks --tree before anything is deployed: what would stop the push stops everything, named with the rest", async () => {
        const scratch = mkdtempSync(path.join(tmpdir(), "flux-bucket-tree-"));
        const file = path.join(scratch, "file.yaml");
        writeFileSync(file, "a: 1\n");
        const empty = path.join(scratch, "empty");
        mkdirSync(empty);
        assert.deepEqual(await treeProblems(path.join(scratch, "nope"), { "dev-flux": "" }), [`--tree ${path.join(scratch, "nope")} does not exist`]);
        assert.deepEqual(await treeProblems(file, { "dev-flux": "" }), [`--tree ${file} is not a directory`]);
        assert.deepEqual(await treeProblems(empty, { "dev-flux": "" }), [`--tree ${empty} has no files: pushing it would delete every object under the prefix`]);

        const good = writeTree(manifestTree(["a", "b"], "v1"), path.join(scratch, "good"));
        assert.deepEqual(await treeProblems(good, { "dev-flux": "", "prod-flux": "prod/" }), []);
        const broken = writeTree({ ...manifestTree(["a"], "v1"), "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n" }, path.join(scratch, "broken"));
        const problems = await treeProblems(broken, { "dev-flux": "", "eu-flux": "", "prod-flux": "prod/" });
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0], new RegExp(`^--tree ${broken}, pushed to the bucket's root for dev-flux, eu-flux: ${broken} is not a valid manifest tree:\\n.*b\\.yaml`, "s"));
        assert.match(problems[1], /pushed to prefix prod\/ for prod-flux: /);

        const runner = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        await assert.rejects(
            up({ stacks: STACKS, tree: broken, yes: true, from: "infra", credentialProblems: [], treeProblems: problems }, runner, recordingDelivery(runner.calls), io()),
            (error: Error) => error instanceof LifecycleError && error.message.startsWith(`nothing was changed:\n  - --tree ${broken}, pushed to the bucket's root`),
        );
        assert.deepEqual(runner.calls, ["problems dev,dev-flux"], "no preview, no deploy");
    });

    it("down destroys the flux stacks first, then the infra stack, and refuses to leave a bucket behind", async () => {
        const runner = new RecordingRunner({ dev: { ...INFRA, forceDestroy: false }, "dev-flux": FLUX }, ["dev", "dev-flux"]);
        const out = io();
        await assert.rejects(down({ stacks: STACKS, yes: true, forceDestroyInFile: false, credentialProblems: [] }, runner, out), (error: Error) => {
            assert.ok(error instanceof LifecycleError);
            assert.match(error.message, /^dev's bucket flux-bucket-1a2b would be left behind: flux-bucket:forceDestroy is false, .* Nothing was destroyed\./);
            assert.match(error.message, /pulumi config set flux-bucket:forceDestroy true --stack dev\n  pulumi up --stack dev .*\n  npm run down -- --stack dev$/);
            return true;
        });
        assert.deepEqual(out.lines, ["forceDestroy is false on dev's deployed bucket flux-bucket-1a2b"]);
        assert.ok(!runner.calls.some((call) => call.startsWith("destroy")));

        const applied = new RecordingRunner({ dev: { ...INFRA, forceDestroy: true }, "dev-flux": FLUX }, ["dev", "dev-flux"]);
        await down({ stacks: STACKS, yes: true, forceDestroyInFile: true, credentialProblems: [] }, applied, io());
        assert.deepEqual(applied.calls, ["problems dev,dev-flux", "outputs dev", "previewDestroy dev-flux", "destroy dev-flux", "previewDestroy dev", "destroy dev"]);

        const generic = new RecordingRunner({ dev: { ...INFRA, provider: "generic" }, "dev-flux": FLUX }, ["dev", "dev-flux"]);
        await down({ stacks: STACKS, yes: true, forceDestroyInFile: false, credentialProblems: [] }, generic, io());
        assert.ok(generic.calls.includes("destroy dev"), "a bucket the stack does not provision is not its to delete");
    });

    it("down goes by the deployed forceDestroy: true in the stack file but not applied is refused, saying to apply it", async () => {
        const runner = new RecordingRunner({ dev: { ...INFRA, forceDestroy: false }, "dev-flux": FLUX }, ["dev", "dev-flux"]);
        await assert.rejects(down({ stacks: STACKS, yes: true, forceDestroyInFile: true, credentialProblems: [] }, runner, io()), {
            message:
                "dev's bucket flux-bucket-1a2b would be left behind: flux-bucket:forceDestroy is true in Pulumi.dev.yaml, but not applied yet, and Pulumi " +
                "cannot delete a versioned bucket that still holds versions. Nothing was destroyed. To delete it with everything in it:\n" +
                "  pulumi up --stack dev      # records it on the bucket\n  npm run down -- --stack dev",
        });
        assert.ok(!runner.calls.some((call) => call.startsWith("destroy")), "the flux stacks are not destroyed before a destroy that would fail");
        // An infra stack deployed before its outputs recorded forceDestroy counts as not applied.
        const older = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX }, ["dev", "dev-flux"]);
        await assert.rejects(down({ stacks: STACKS, yes: true, forceDestroyInFile: true, credentialProblems: [] }, older, io()), /not applied yet/);
    });

    it("down stops at a failed destroy with the infra stack untouched", async () => {
        const runner = new RecordingRunner({ dev: { ...INFRA, forceDestroy: true }, "dev-flux": FLUX }, ["dev", "dev-flux"]);
        runner.failing.add("dev-flux");
        await assert.rejects(down({ stacks: STACKS, yes: true, forceDestroyInFile: true, credentialProblems: [] }, runner, io()), {
            message: "pulumi destroy dev-flux failed: error: destroy failed (dev-flux)\nnothing was destroyed\nresume with: npm run down -- --stack dev",
        });
        assert.ok(!runner.calls.includes("destroy dev"));
    });

    it("preview previews the flux stacks only once the infra stack has outputs for their StackReference", async () => {
        const fresh = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX });
        const out = io();
        await preview(STACKS, fresh, out);
        assert.deepEqual(fresh.calls, ["problems dev,dev-flux", "preview dev", "outputs dev"]);
        assert.equal(out.lines[1], "dev-flux: not previewed: dev has no outputs yet for their StackReference (run npm run up first)");

        const deployed = new RecordingRunner({ dev: INFRA, "dev-flux": FLUX }, ["dev"]);
        await preview(STACKS, deployed, io());
        assert.deepEqual(deployed.calls, ["problems dev,dev-flux", "preview dev", "outputs dev", "preview dev-flux"]);
    });

    it("names the cloud credentials the infra stack's providers need and cannot find", async () => {
        const probes: CloudProbes = { aws: async () => "no AWS credentials (Could not load credentials from any providers)", gcp: async () => undefined };
        const { infraConfig } = stackSet(ROOT, "dev");
        assert.deepEqual(await credentialProblems(ROOT, "dev", infraConfig, probes, {}), [
            "dev creates a Civo cluster: set CIVO_TOKEN (or pulumi config set --secret civo:token --stack dev)",
            "dev creates an S3 bucket: no AWS credentials (Could not load credentials from any providers)",
        ]);
        const fine: CloudProbes = { aws: async () => undefined, gcp: async () => undefined };
        assert.deepEqual(await credentialProblems(ROOT, "dev", infraConfig, fine, { CIVO_TOKEN: "t" }), []);
        const gcp = stackSet(ROOT, "gcp-dev").infraConfig;
        assert.deepEqual(await credentialProblems(ROOT, "gcp-dev", gcp, { ...fine, gcp: async () => "no ADC" }, { CIVO_TOKEN: "t" }), ["gcp-dev creates a GCS bucket: no ADC"]);
        // The cluster's cloud too: EKS needs the AWS chain, GKE Application Default Credentials; no Civo token for either.
        assert.deepEqual(await credentialProblems(ROOT, "eks-dev", stackSet(ROOT, "eks-dev").infraConfig, { ...fine, aws: async () => "no AWS credentials" }, {}), [
            "eks-dev creates an EKS cluster and an S3 bucket: no AWS credentials",
        ]);
        assert.deepEqual(await credentialProblems(ROOT, "gke-dev", stackSet(ROOT, "gke-dev").infraConfig, { ...fine, gcp: async () => "no ADC" }, {}), [
            "gke-dev creates a GKE cluster and a GCS bucket: no ADC",
        ]);
    });
});

// moto_server stands for S3 (bucketops' push, as in tests/cli), the stand-in Kubernetes API for the cluster: when
// bucketops asks for a reconcile, it answers as source-controller and kustomize-controller would once they fetched
// and applied the bucket (revision computed here independently, from the tree).
describe("npm run up's push and wait, with the outputs only in memory (moto_server, stand-in Kubernetes API)", () => {
    let moto: Moto;
    let kube: FakeKubeApi;
    before(async () => {
        [moto, kube] = await Promise.all([Moto.start(), FakeKubeApi.start()]);
        await moto.createBucket("lifecycle");
    });
    after(() => {
        kube?.close();
        moto?.stop();
    });

    it("pushes the tree to the flux stack's prefix, waits for Flux, and writes no credential to disk", async () => {
        const secret = `lifecycle-secret-${process.pid}-${Date.now()}`;
        const scratch = mkdtempSync(path.join(tmpdir(), "flux-bucket-up-"));
        const restore = setEnv({ TMPDIR: path.join(scratch, "tmp"), BUCKETOPS_CACHE_DIR: path.join(scratch, "cache") });
        mkdirSync(process.env.TMPDIR!);
        const tree = manifestTree(["a", "b"], "v1");
        const dir = writeTree(tree, mkdtempSync(path.join(scratch, "tree-")));
        const expected = revisionOf(prefixed("clusters/", tree));

        const kubeconfig = readFileSync(kube.kubeconfig(), "utf8");
        const infra: Outputs = {
            provider: "generic",
            bucketName: "lifecycle",
            endpoint: moto.endpoint.replace("http://", ""),
            insecure: true,
            kubeconfig,
            writerAccessKeyId: "AKIDLIFECYCLE",
            writerSecretAccessKey: secret,
        };
        const flux: Outputs = { infraStack: "organization/flux-bucket/dev", namespace: "flux-system", bucket: "flux-bucket", prefix: "clusters/", kustomization: "apps" };
        kube.buckets.set("flux-system/flux-bucket", {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "Bucket",
            metadata: { name: "flux-bucket", namespace: "flux-system" },
            spec: { provider: "generic", bucketName: "lifecycle", endpoint: infra.endpoint, insecure: true, prefix: "clusters/", interval: "10m" },
            status: { conditions: [{ type: "Ready", status: "True", message: "ok" }] },
        });
        kube.kustomizations = [
            {
                apiVersion: "kustomize.toolkit.fluxcd.io/v1",
                kind: "Kustomization",
                metadata: { name: "apps", namespace: "flux-system" },
                spec: { sourceRef: { kind: "Bucket", name: "flux-bucket" }, path: "./clusters", interval: "10m" },
                status: { conditions: [{ type: "Ready", status: "True", message: "ok" }] },
            },
        ];
        kube.onPatch = (bucket) => {
            bucket.status.lastHandledReconcileAt = bucket.metadata.annotations["reconcile.fluxcd.io/requestedAt"];
            bucket.status.artifact = { revision: expected };
            kube.kustomizations[0].status.lastAppliedRevision = expected;
        };

        const runner = new RecordingRunner({ dev: infra, "dev-flux": flux });
        const out = io();
        try {
            await up({ stacks: STACKS, tree: dir, yes: true, from: "infra", credentialProblems: [] }, runner, bucketopsDelivery(out.log, 20), out);
        } finally {
            restore();
        }
        assert.deepEqual(await moto.contents("lifecycle", "clusters/"), prefixed("clusters/", tree));
        assert.ok(out.lines.includes(`s3://lifecycle/clusters/: ${expected}`), out.lines.join("\n"));
        assert.ok(out.lines.includes("cluster has caught up with the bucket"), out.lines.join("\n"));
        // The push suspended the Bucket (with a reconcile request: the suspend barrier's) and resumed it with a reconcile
        // request; the wait asked for one more.
        assert.deepEqual(
            kube.patches.map(({ body }) => [(body as { spec?: { suspend?: boolean } }).spec?.suspend, Boolean(body.metadata?.annotations?.["reconcile.fluxcd.io/requestedAt"])]),
            [[true, true], [false, true], [undefined, true]],
        );
        assert.deepEqual(filesContaining(scratch, secret), [], "no file under TMPDIR, the cache or the tree holds the secret");
        assert.deepEqual(filesContaining(ROOT, secret, ["node_modules", ".git", ".tmp"]), []);
    });
});

/** Files below `dir` whose content includes `text`. */
function filesContaining(dir: string, text: string, skip: string[] = []): string[] {
    const found: string[] = [];
    for (const name of readdirSync(dir)) {
        if (skip.includes(name)) continue;
        const file = path.join(dir, name);
        const stat = statSync(file);
        if (stat.isDirectory()) found.push(...filesContaining(file, text));
        else if (stat.isFile() && stat.size < 10_000_000 && readFileSync(file).includes(text)) found.push(file);
    }
    return found;
}
