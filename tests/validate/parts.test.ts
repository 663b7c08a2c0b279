import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { kustomizeBuild, kustomizeErrorMessage } from "../../src/validate/kustomize.ts";
import { localReferences } from "../../src/validate/kustomizationFile.ts";
import { parseYamlText } from "../../src/validate/yamlFiles.ts";

describe("parseYamlText", () => {
    it("returns every non-empty document of a multi-document stream", () => {
        const parsed = parseYamlText("a.yaml", "---\n# only a comment\n---\nkind: A\n---\nkind: B\n...\n");
        assert.deepEqual(parsed, { file: "a.yaml", documents: [{ kind: "A" }, { kind: "B" }], problems: [], plain: true });
    });

    it("resolves << merge keys, as kustomize's YAML reader does", () => {
        const parsed = parseYamlText("a.yaml", "base: &base {interval: 5m}\nspec:\n  <<: *base\n  prune: true\n");
        assert.deepEqual(parsed.documents, [{ base: { interval: "5m" }, spec: { interval: "5m", prune: true } }]);
    });

    it("reports the first error of a broken document and keeps the others", () => {
        const parsed = parseYamlText("a.yaml", "kind: A\nkind: B\n---\nkind: C\n");
        assert.deepEqual(parsed.documents, [{ kind: "C" }]);
        assert.deepEqual(parsed.problems, [
            { file: "a.yaml", object: "", field: "", message: "YAML syntax error: Map keys must be unique at line 2, column 1" },
        ]);
    });
});

describe("localReferences", () => {
    it("finds resources, patches and generator inputs, and leaves out remote bases and inline patches", () => {
        const kustomization = {
            resources: ["app.yaml", "../base", "https://github.com/org/repo//deploy?ref=v1", "github.com/org/repo/deploy"],
            patches: [{ path: "patch.yaml" }, { patch: "- op: remove\n  path: /spec/replicas\n", target: { kind: "Deployment" } }],
            configMapGenerator: [{ name: "values", files: ["values.yaml=podinfo-values.yaml"], envs: ["app.env"] }],
        };
        const dir = path.resolve("/tree/apps/dev");
        assert.deepEqual(
            localReferences(kustomization, dir).map(({ field, value, target, role }) => [field, value, path.relative(dir, target), role]),
            [
                ["resources[0]", "app.yaml", "app.yaml", "resource"],
                ["resources[1]", "../base", "../base", "resource"],
                ["patches[0].path", "patch.yaml", "patch.yaml", "patch"],
                ["configMapGenerator[0].files[0]", "podinfo-values.yaml", "podinfo-values.yaml", "data"],
                ["configMapGenerator[0].envs[0]", "app.env", "app.env", "data"],
            ],
        );
    });
});

describe("kustomizeErrorMessage", () => {
    it("takes kustomize's error out of kubectl's klog line and drops the not-a-directory tail", () => {
        const stderr =
            'E1123 15:39:30.257241    6943 run.go:72] "command failed" err="accumulating resources: accumulation err=\'accumulating resources from \\"x.yaml\\": ' +
            "open /t/x.yaml: no such file or directory': must build at directory: not a valid directory: evalsymlink failure on '/t/x.yaml'\"\n";
        assert.equal(
            kustomizeErrorMessage(stderr),
            "accumulating resources: accumulation err='accumulating resources from \"x.yaml\": open /t/x.yaml: no such file or directory'",
        );
    });

    it("keeps a plain `error:` line as it is", () => {
        assert.equal(kustomizeErrorMessage("error: unable to find one of 'kustomization.yaml'\n  in directory '/t'\n"), "unable to find one of 'kustomization.yaml' in directory '/t'");
    });
});

describe("kustomizeBuild", () => {
    /** Runs the test with KUBECTL set to `kubectl`. */
    const withKubectl = (t: { after(fn: () => void): void }, kubectl: string) => {
        const previous = process.env.KUBECTL;
        process.env.KUBECTL = kubectl;
        t.after(() => (previous === undefined ? delete process.env.KUBECTL : (process.env.KUBECTL = previous)));
    };

    it("says so when kubectl is missing", async (t) => {
        withKubectl(t, "/nonexistent/kubectl");
        assert.deepEqual(await kustomizeBuild("."), {
            ok: false,
            error: 'cannot run "/nonexistent/kubectl kustomize": /nonexistent/kubectl is not installed',
        });
    });

    it("stops a build that is no longer needed, and frees its slot for the next", { timeout: 20_000 }, async (t) => {
        const dir = mkdtempSync(path.join(tmpdir(), "flux-bucket-kubectl-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const kubectl = path.join(dir, "kubectl");
        writeFileSync(kubectl, "#!/bin/sh\nsleep 30\n", { mode: 0o755 });
        withKubectl(t, kubectl);
        const stop = new AbortController();
        const started = Date.now();
        // More waiting for a slot than running when they are stopped: each woken one that stops must wake the next.
        const builds = Array.from({ length: availableParallelism() * 3 }, () => kustomizeBuild(".", stop.signal));
        setTimeout(() => stop.abort(), 200);
        assert.deepEqual(await Promise.all(builds), builds.map(() => ({ ok: false, error: "cancelled" })));
        assert.ok(Date.now() - started < 10_000, "the builds were stopped, not waited for");
        assert.deepEqual(await kustomizeBuild(".", AbortSignal.abort()), { ok: false, error: "cancelled" });
        // Had a stopped build kept its slot, this one would wait for ever (and the test time out).
        process.env.KUBECTL = "/nonexistent/kubectl";
        assert.equal((await kustomizeBuild(".")).ok, false);
    });
});
