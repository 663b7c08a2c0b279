import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { ConfigError } from "../../stacks/config/errors.ts";
import { writeFolder } from "../../src/render/output.ts";
import { renderStack } from "../../src/render/render.ts";
import type { ManifestValidationError } from "../../src/validate/index.ts";

const root = path.resolve(import.meta.dirname, "../..");
const scratch = mkdtempSync(path.join(tmpdir(), "flux-bucket-render-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Renders a stack of the repository into a scratch folder, as `npm run render` does. */
async function renderInto(stack: string): Promise<(file: string) => string> {
    const target = path.join(scratch, stack);
    writeFolder(target, (await renderStack(root, stack)).files);
    return (file) => readFileSync(path.join(target, file), "utf8");
}

/** A project root with the repository's Pulumi.yaml and deploy/, plus the given stack files. */
function projectWith(stackFiles: Record<string, string>, deploy = path.join(root, "deploy")): string {
    const dir = mkdtempSync(path.join(scratch, "project-"));
    cpSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    cpSync(deploy, path.join(dir, "deploy"), { recursive: true });
    for (const [name, content] of Object.entries(stackFiles)) writeFileSync(path.join(dir, name), content);
    return dir;
}

describe("render of the aws dev stacks", () => {
    let read: (file: string) => string;
    before(async () => {
        read = await renderInto("dev");
    });

    test("writes every Kubernetes object the flux stack applies", () => {
        assert.deepEqual(readdirSync(path.join(scratch, "dev", "kubernetes")).sort(), [
            "bucket-flux-system-flux-bucket.yaml",
            "kustomization-flux-system-flux-bucket.yaml",
            "namespace-flux-system.yaml",
            "secret-flux-system-flux-bucket.yaml",
        ]);
        const bucket = parse(read("kubernetes/bucket-flux-system-flux-bucket.yaml"));
        assert.equal(bucket.apiVersion, "source.toolkit.fluxcd.io/v1");
        assert.deepEqual(
            { provider: bucket.spec.provider, endpoint: bucket.spec.endpoint, region: bucket.spec.region, secretRef: bucket.spec.secretRef },
            { provider: "aws", endpoint: "s3.eu-west-1.amazonaws.com", region: "eu-west-1", secretRef: { name: "flux-bucket" } },
        );
        assert.equal(parse(read("kubernetes/kustomization-flux-system-flux-bucket.yaml")).spec.path, "./clusters/dev");
    });

    test("redacts the Secret's values but shows its keys", () => {
        assert.deepEqual(parse(read("kubernetes/secret-flux-system-flux-bucket.yaml")).stringData, {
            accesskey: "<redacted>",
            secretkey: "<redacted>",
        });
        assert.doesNotMatch(read("resources.json"), /offline-secret-/);
        assert.doesNotMatch(read("outputs.json"), /offline-secret-|AKIA/);
    });

    test("writes the chart, its version and the CRD keep annotation", () => {
        const release = parse(read("helm/flux2.yaml"));
        assert.deepEqual(
            { chart: release.chart, version: release.version, repository: release.repository, crds: release.values.crds },
            {
                chart: "flux2",
                version: "2.18.3",
                repository: "https://fluxcd-community.github.io/helm-charts",
                crds: { annotations: { "helm.sh/resource-policy": "keep" } },
            },
        );
    });

    test("writes the IAM and bucket policy documents", () => {
        assert.deepEqual(JSON.parse(read("policies/userpolicy-bucket-reader.json")).Statement.map((s: any) => s.Action), [["s3:ListBucket"], ["s3:GetObject"]]);
        assert.equal(JSON.parse(read("policies/bucketpolicy-bucket.json")).Statement[0].Sid, "DenyInsecureTransport");
    });

    test("lists every resource of both stacks with its parent", () => {
        const resources: { stack: string; type: string; name: string; parent: string | null }[] = JSON.parse(read("resources.json"));
        assert.deepEqual([...new Set(resources.map((resource) => resource.stack))], ["dev", "dev-flux"]);
        const bucket = resources.find((resource) => resource.type === "aws:s3/bucket:Bucket");
        assert.equal(bucket?.parent, "fluxbucket:aws:VersionedBucket::bucket");
    });
});

describe("render of the gcp stacks", () => {
    test("gives Flux the gcp provider, the GCS endpoint and a serviceaccount key", async () => {
        const read = await renderInto("gcp-dev");
        const bucket = parse(read("kubernetes/bucket-flux-system-flux-bucket.yaml"));
        assert.equal(bucket.spec.provider, "gcp");
        assert.equal(bucket.spec.endpoint, "storage.googleapis.com");
        assert.equal(bucket.spec.region, undefined);
        assert.deepEqual(parse(read("kubernetes/secret-flux-system-flux-bucket.yaml")).stringData, { serviceaccount: "<redacted>" });
        assert.deepEqual(JSON.parse(read("policies/iamcustomrole-bucket-reader.json")).permissions, [
            "storage.buckets.get",
            "storage.objects.get",
            "storage.objects.list",
        ]);
    });
});

describe("render of the keyless example stacks", () => {
    test("eks-dev: no Secret, source-controller annotated with the reader role, trust and role policies written", async () => {
        const read = await renderInto("eks-dev");
        const files = readdirSync(path.join(scratch, "eks-dev", "kubernetes")).sort();
        assert.deepEqual(files, ["bucket-flux-system-flux-bucket.yaml", "kustomization-flux-system-flux-bucket.yaml", "namespace-flux-system.yaml"]);
        const outputs = JSON.parse(read("outputs.json"))["eks-dev"];
        const values = parse(read("helm/flux2.yaml")).values;
        assert.deepEqual(values.sourceController.serviceAccount.annotations, { "eks.amazonaws.com/role-arn": outputs.readerRoleArn });
        const trust = JSON.parse(read("policies/role-bucket-reader.json")).Statement[0];
        assert.equal(trust.Action, "sts:AssumeRoleWithWebIdentity");
        assert.ok(Object.values(trust.Condition.StringEquals).includes("system:serviceaccount:flux-system:source-controller"));
        assert.deepEqual(JSON.parse(read("policies/role-bucket-ci-writer.json")).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"], [
            "repo:acme@123456/deploy@456789:ref:refs/heads/main",
            "repo:acme/deploy:ref:refs/heads/main",
        ]);
        assert.deepEqual(JSON.parse(read("policies/rolepolicy-bucket-reader.json")).Statement.map((statement: { Sid: string }) => statement.Sid), ["ListBucket", "Objects"]);
    });

    test("gke-dev: no Secret, source-controller annotated with the reader account, the federation provider's condition written", async () => {
        const read = await renderInto("gke-dev");
        assert.ok(!existsSync(path.join(scratch, "gke-dev", "kubernetes", "secret-flux-system-flux-bucket.yaml")));
        const outputs = JSON.parse(read("outputs.json"))["gke-dev"];
        assert.deepEqual(parse(read("helm/flux2.yaml")).values.sourceController.serviceAccount.annotations, { "iam.gke.io/gcp-service-account": outputs.readerServiceAccount });
        assert.equal(
            JSON.parse(read("policies/workloadidentitypoolprovider-github.json")).attributeCondition,
                        'assertion.repository_id == "456789" && assertion.repository_owner_id == "123456" && assertion.sub in ' +
                '["repo:acme@123456/deploy@456789:environment:production","repo:acme/deploy:environment:production","repo:acme@123456/deploy@456789:pull_request","repo:acme/deploy:pull_request"]',
        );
        assert.equal(JSON.parse(read("policies/iammember-bucket-reader-impersonator.json")).member, "serviceAccount:my-gcp-project.svc.id.goog[flux-system/source-controller]");
    });
});

describe("render of bad input", () => {
    test("an unknown stack names the stacks there are", async () => {
        await assert.rejects(renderStack(root, "prod"), {
            message: 'no stack "prod": Pulumi.prod.yaml does not exist; stacks here: dev, dev-flux, eks-dev, eks-dev-flux, fleet, fleet-flux, gcp-dev, gcp-dev-flux, gke-dev, gke-dev-flux',
        });
    });

    test("a flux stack name points at its infra stack", async () => {
        await assert.rejects(renderStack(root, "dev-flux"), {
            message: 'Pulumi.dev-flux.yaml is not an infra stack (flux-bucket:layer is "flux", render wants "infra"); pass its infra stack, dev, and both are rendered',
        });
    });

    test("a malformed stack file", async () => {
        const dir = projectWith({ "Pulumi.broken.yaml": "config:\n  flux-bucket:layer: infra\n   bad: [\n" });
        await assert.rejects(renderStack(dir, "broken"), (error: Error) => error.message.startsWith("Pulumi.broken.yaml is not valid YAML: "));
    });

    test("an invalid value is named with what is allowed", async () => {
        const dir = projectWith({ "Pulumi.bad.yaml": "config:\n  flux-bucket:layer: infra\n  flux-bucket:region: mars-1\n" });
        await assert.rejects(renderStack(dir, "bad"), (error: ConfigError) => {
            assert.deepEqual(error.problems, ['Pulumi.bad.yaml: flux-bucket:region is "mars-1"; allowed: an AWS region code such as eu-west-1 or us-east-1']);
            return true;
        });
    });

    test("every problem of both stack files in one error, each with its file and key", async () => {
        const dir = projectWith({
            "Pulumi.both.yaml": "config:\n  flux-bucket:layer: infra\n  flux-bucket:region: mars-1\n  flux-bucket:bucketInterval: 5m\n",
            "Pulumi.both-flux.yaml": "config:\n  flux-bucket:layer: flux\n  flux-bucket:bucketInterval: daily\n  flux-bucket:civoRegion: LON1\n",
        });
        await assert.rejects(renderStack(dir, "both"), (error: ConfigError) => {
            assert.deepEqual(error.problems, [
                "Pulumi.both.yaml: flux-bucket:bucketInterval is a setting of the flux layer, and this stack's flux-bucket:layer is infra, which never reads it; move it to the flux stack's file",
                'Pulumi.both.yaml: flux-bucket:region is "mars-1"; allowed: an AWS region code such as eu-west-1 or us-east-1',
                "Pulumi.both-flux.yaml: flux-bucket:civoRegion is a setting of the infra layer, and this stack's flux-bucket:layer is flux, which never reads it; move it to the infra stack's file",
                'Pulumi.both-flux.yaml: flux-bucket:bucketInterval is "daily"; allowed: a duration in ms, s, m or h such as 30s, 5m, 1h30m',
            ]);
            return true;
        });
    });

    test("secure values get a visible placeholder instead of failing", async () => {
        const dir = projectWith({
            "Pulumi.kind.yaml": "config:\n  flux-bucket:layer: infra\n  flux-bucket:cluster: existing\n  flux-bucket:kubeconfig:\n    secure: AAABAKx0\n",
        });
        const { stacks } = await renderStack(dir, "kind");
        assert.equal(stacks[0].run.outputs.kubeconfig, "<secret flux-bucket:kubeconfig>");
        assert.ok(stacks[0].run.secretOutputs.includes("kubeconfig"));
    });

    test("a broken manifest in deploy/ is rejected with its file named", async () => {
        const deploy = mkdtempSync(path.join(scratch, "deploy-"));
        cpSync(path.join(root, "deploy"), deploy, { recursive: true });
        const release = path.join(deploy, "apps/base/podinfo/release.yaml");
        writeFileSync(release, readFileSync(release, "utf8").replace(/interval: \S+/, "interval: 5"));
        const dir = projectWith({ "Pulumi.dev.yaml": readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8") }, deploy);
        await assert.rejects(renderStack(dir, "dev"), (error: ManifestValidationError) => {
            assert.match(error.message, /deploy\/apps\/base\/podinfo\/release\.yaml: HelmRelease\/podinfo: spec\.interval: /);
            return true;
        });
    });

    test("the command exits non-zero, says why and writes nothing", () => {
        const out = mkdtempSync(path.join(scratch, "out-"));
        const result = spawnSync(process.execPath, [path.join(root, "src/render/main.ts"), "--stack", "prod", "--out", out], {
            encoding: "utf8",
        });
        assert.equal(result.status, 1);
        assert.match(result.stderr, /^render: no stack "prod": Pulumi\.prod\.yaml does not exist/);
        assert.match(result.stderr, /Nothing was written\.\n$/);
        assert.deepEqual(readdirSync(out), []);
    });

    test("the command writes out/<stack> and says that nothing was created", () => {
        const out = mkdtempSync(path.join(scratch, "out-"));
        const result = spawnSync(process.execPath, [path.join(root, "src/render/main.ts"), "--stack", "dev", "--out", out], {
            encoding: "utf8",
        });
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /Nothing was created/);
        assert.ok(existsSync(path.join(out, "dev", "kubernetes", "bucket-flux-system-flux-bucket.yaml")));
        assert.deepEqual(readdirSync(out), ["dev"]);
    });
});

describe("npm run render's entry (bin/render.js, one Node process)", () => {
    test("package.json's render script is it", () => {
        const packageJson = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
        assert.equal(packageJson.scripts.render, "node bin/render.js");
    });

    test("writes exactly the files renderStack renders and prints what src/render/main.ts prints", async () => {
        // Each from a folder of its own into ./out, so that both print the same paths.
        const run = (entry: string) => {
            const cwd = mkdtempSync(path.join(scratch, "cwd-"));
            const result = spawnSync(process.execPath, [path.join(root, entry), "--stack", "gcp-dev", "--out", "out"], { cwd, encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
            return { stdout: result.stdout, out: path.join(cwd, "out") };
        };
        const { stdout, out } = run("bin/render.js");
        assert.equal(stdout, run("src/render/main.ts").stdout);
        assert.match(stdout, /^Rendered gcp-dev and gcp-dev-flux offline into out\/gcp-dev\/$/m);
        const { files } = await renderStack(root, "gcp-dev");
        const written = (readdirSync(path.join(out, "gcp-dev"), { recursive: true }) as string[]).filter((file) => file.includes("."));
        assert.deepEqual(written.sort(), [...files.keys()].sort());
        for (const [file, content] of files) assert.equal(readFileSync(path.join(out, "gcp-dev", file), "utf8"), content, file);
    });
});

describe("what a render loads", () => {
    // In a process of its own (this one has loaded every SDK): the Pulumi packages in the module cache after a render.
    const pulumiModulesLoaded = (stack: string) => {
        const script = [
            'import { createRequire } from "node:module";',
            `const { renderStack } = await import(${JSON.stringify(path.join(root, "src/render/render.ts"))});`,
            `await renderStack(${JSON.stringify(root)}, ${JSON.stringify(stack)});`,
            "const files = Object.keys(createRequire(import.meta.url).cache);",
            'console.log(JSON.stringify(files.flatMap((file) => file.match(/node_modules\\/@pulumi\\/(.+)$/)?.[1] ?? [])));',
        ].join("\n");
        const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
        return JSON.parse(result.stdout) as string[];
    };
    const pulumiPackagesLoaded = (stack: string) => [...new Set(pulumiModulesLoaded(stack).map((file) => file.split("/")[0]))].sort();

    test("only the provider SDKs its stacks use: the cluster's and the bucket's cloud, and Kubernetes for the flux stack", () => {
        assert.deepEqual(pulumiPackagesLoaded("dev"), ["aws", "civo", "kubernetes", "pulumi"]);
        assert.deepEqual(pulumiPackagesLoaded("gcp-dev"), ["civo", "gcp", "kubernetes", "pulumi"]);
        assert.deepEqual(pulumiPackagesLoaded("eks-dev"), ["aws", "kubernetes", "pulumi"]);
        assert.deepEqual(pulumiPackagesLoaded("gke-dev"), ["gcp", "kubernetes", "pulumi"]);
    });

    test("of a provider SDK, only the classes the components use: not its index, which loads every service", () => {
        // components/aws/sdk.ts, components/gcp/sdk.ts and components/flux/kubernetes.ts import each class from its module.
        for (const stack of ["eks-dev", "gke-dev"]) {
            const loaded = pulumiModulesLoaded(stack);
            for (const index of ["aws/index.js", "gcp/index.js", "kubernetes/index.js"]) assert.ok(!loaded.includes(index), `${stack} loaded @pulumi/${index}`);
            for (const provider of ["aws", "gcp"]) {
                const modules = loaded.filter((file) => file.startsWith(`${provider}/`)).length;
                assert.ok(modules < 40, `${stack}: ${modules} modules of @pulumi/${provider} (its index loads about 300)`);
            }
        }
    });
});

describe("a render's checks and the validation cache", () => {
    test("a render of an unchanged project does not load the validator; a change to deploy/ is validated again", () => {
        const dir = projectWith({ "Pulumi.dev.yaml": readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8") });
        const cache = mkdtempSync(path.join(scratch, "cache-"));
        const log = path.join(scratch, "loaded.log");
        // In a process of its own, as `npm run render` runs: whether the validator was loaded, or the error.
        const render = () => {
            const script = [
                `const { renderStack } = await import(${JSON.stringify(path.join(root, "src/render/render.ts"))});`,
                `await renderStack(${JSON.stringify(dir)}, "dev");`,
            ].join("\n");
            const result = spawnSync(process.execPath, ["--import", path.join(root, "tests/support/loadedModules.mjs"), "--input-type=module", "-e", script], {
                encoding: "utf8",
                env: { ...process.env, BUCKETOPS_CACHE_DIR: cache, LOADED_MODULES_LOG: log },
            });
            return { code: result.status, stderr: result.stderr, validated: readFileSync(log, "utf8").includes("/src/validate/tree.ts") };
        };
        assert.deepEqual(render(), { code: 0, stderr: "", validated: true }, "the first render validates");
        assert.deepEqual(render(), { code: 0, stderr: "", validated: false }, "the same content passed: the validator is not even loaded");
        writeFileSync(path.join(dir, "deploy/apps/base/podinfo/namespace.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n  labels: {team: apps}\n");
        assert.deepEqual(render(), { code: 0, stderr: "", validated: true }, "deploy/ changed: validated again");
        // A failure is never remembered: the broken tree is refused on every render.
        const release = path.join(dir, "deploy/apps/base/podinfo/release.yaml");
        writeFileSync(release, readFileSync(release, "utf8").replace(/interval: \S+/, "interval: 5"));
        for (const attempt of [1, 2]) {
            const refused = render();
            assert.equal(refused.code, 1, `attempt ${attempt}`);
            assert.match(refused.stderr, /release\.yaml: HelmRelease\/podinfo: spec\.interval: /);
        }
    });
});
