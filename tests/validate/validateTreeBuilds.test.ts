import { appendFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { validateTree } from "../../src/validate/index.ts";
import { copyOfDeploy, edit, expectProblems, treeOf } from "./expectProblems.ts";

// validateTree builds only the roots (and what Flux builds on its own) while they build clean; these
// trees build clean only in part, to show that a problem is still found, and named where it is.

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: apps\ndata:\n  value: "${name}"\n`;
const kustomization = (resources: string[], rest = "") =>
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}\n`).join("")}${rest}`;

/** A root over two folders of two ConfigMaps each, like the bench's tree in small. */
function smallTree(t: { after(fn: () => void): void }, overrides: Record<string, string> = {}): string {
    return treeOf(t, {
        "kustomization.yaml": kustomization(["app-a", "app-b"]),
        "app-a/kustomization.yaml": kustomization(["one.yaml", "two.yaml"]),
        "app-a/one.yaml": configMap("a-one"),
        "app-a/two.yaml": configMap("a-two"),
        "app-b/kustomization.yaml": kustomization(["one.yaml", "two.yaml"]),
        "app-b/one.yaml": configMap("b-one"),
        "app-b/two.yaml": configMap("b-two"),
        ...overrides,
    });
}

/** What a build that fails says, in the kustomization.yaml of the directory built. */
const buildFailure = (file: string, reason: string) => ({ file, object: "Kustomization", field: "", message: `kustomize build failed: ${reason}` });

/** apps/base/podinfo's HelmRelease with the timeout that TIMEOUT_300 sets, as checked in its build output. */
const timeoutProblem = (dir: string) => ({
    file: path.join(dir, "apps/base/podinfo/kustomization.yaml"),
    object: "HelmRelease/podinfo",
    field: "spec.timeout",
    message: "must be string (got 300) in the kustomize build output",
});

const TIMEOUT_300 = "patches:\n  - patch: |-\n      - op: add\n        path: /spec/timeout\n        value: 300\n    target:\n      kind: HelmRelease\n";

describe("validateTree builds the roots first, and the rest only to find a problem", { concurrency: true }, () => {
    it("passes a clean tree of nested kustomizations", async (t) => {
        await validateTree(smallTree(t));
    });

    it("reports a child that fails to build at the child, not again at the root that includes it", async (t) => {
        const dir = copyOfDeploy(t);
        appendFileSync(
            path.join(dir, "apps/base/podinfo/kustomization.yaml"),
            "patches:\n  - patch: |-\n      apiVersion: source.toolkit.fluxcd.io/v1\n      kind: HelmRepository\n      metadata:\n        name: missing\n        namespace: podinfo\n      spec:\n        interval: 1h\n",
        );
        await expectProblems(() => validateTree(dir), [
            buildFailure(
                path.join(dir, "apps/base/podinfo/kustomization.yaml"),
                'no resource matches strategic merge patch "HelmRepository.v1.source.toolkit.fluxcd.io/missing.podinfo": ' +
                    "no matches for Id HelmRepository.v1.source.toolkit.fluxcd.io/missing.podinfo; " +
                    "failed to find unique target for patch HelmRepository.v1.source.toolkit.fluxcd.io/missing.podinfo",
            ),
        ]);
    });

    it("reports a child whose own patch breaks an object's schema at the child, once", async (t) => {
        const dir = copyOfDeploy(t);
        appendFileSync(path.join(dir, "apps/base/podinfo/kustomization.yaml"), TIMEOUT_300);
        await expectProblems(() => validateTree(dir), [timeoutProblem(dir)]);
    });

    it("schema-checks what a root's patch does to objects of its children, which are valid in their files", async (t) => {
        const dir = smallTree(t, {
            "kustomization.yaml": kustomization(
                ["app-a", "app-b"],
                "patches:\n  - patch: |-\n      - op: add\n        path: /data/count\n        value: 3\n    target:\n      kind: ConfigMap\n      name: b-two\n",
            ),
        });
        await expectProblems(() => validateTree(dir), [
            { file: path.join(dir, "kustomization.yaml"), object: "ConfigMap/b-two", field: "data.count", message: "must be string (got 3) in the kustomize build output" },
        ]);
    });

    it("reports a name collision between two children that each build, at the root that includes both", async (t) => {
        const dir = smallTree(t, { "app-b/two.yaml": configMap("a-one") });
        await expectProblems(() => validateTree(dir), [
            buildFailure(
                path.join(dir, "kustomization.yaml"),
                `accumulating resources: accumulation err='accumulating resources from 'app-b': read ${dir}/app-b: is a directory': ` +
                    `recursed merging from path '${dir}/app-b': may not add resource with an already registered id: ConfigMap.v1.[noGrp]/a-one.apps`,
            ),
        ]);
    });

    it("checks a kustomization as it is used: inside the one that includes it, and on its own once a Flux Kustomization points at it", async (t) => {
        const dir = copyOfDeploy(t);
        // apps/dev sets the timeout right again, so only apps/base/podinfo on its own is broken, and
        // nothing builds it on its own until clusters/dev/apps.yaml points at it.
        appendFileSync(path.join(dir, "apps/base/podinfo/kustomization.yaml"), TIMEOUT_300);
        appendFileSync(path.join(dir, "apps/dev/podinfo-values.yaml"), "  timeout: 5m\n");
        await validateTree(dir);
        edit(dir, "clusters/dev/apps.yaml", "path: ./apps/dev", "path: ./apps/base/podinfo");
        await expectProblems(() => validateTree(dir), [timeoutProblem(dir)]);
    });

    it("reports a cycle of kustomizations, which has no root", async (t) => {
        const dir = treeOf(t, {
            "a/kustomization.yaml": kustomization(["../b"]),
            "b/kustomization.yaml": kustomization(["../a"]),
        });
        await expectProblems(() => validateTree(dir), [
            buildFailure(
                path.join(dir, "b/kustomization.yaml"),
                // Built as Flux builds a path (an overlay over b): kustomize meets a again inside a.
                `accumulating resources: accumulation err='accumulating resources from '../a': read ${dir}/a: is a directory': ` +
                    `cycle detected: candidate root '${dir}/a' contains visited root '${dir}/a'`,
            ),
        ]);
    });
});
