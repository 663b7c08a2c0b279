import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { validateTree } from "../../src/validate/index.ts";
import { copyOfDeploy, edit, expectProblems } from "./expectProblems.ts";

// Each test breaks its own copy of deploy/ in one way and expects exactly one message for it.
describe("validateTree on a broken copy of deploy/", { concurrency: true }, () => {
    it("names the file, object and field of a schema error", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "infrastructure/controllers/traefik.yaml", "interval: 30m", "interval: 30");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "infrastructure/controllers/traefik.yaml"),
                object: "HelmRelease/traefik",
                field: "spec.interval",
                message: "must be string (got 30)",
            },
        ]);
    });

    it("reports a YAML syntax error once, with its line, and does not build the kustomizations that include it", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "apps/base/podinfo/namespace.yaml", "  name: podinfo", "  name: podinfo\n   labels: {}");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "apps/base/podinfo/namespace.yaml"),
                object: "",
                field: "",
                message: "YAML syntax error: Nested mappings are not allowed in compact mappings at line 4, column 9",
            },
        ]);
    });

    it("reports a broken kustomization.yaml once, not again from the overlay that includes its directory", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "apps/base/podinfo/kustomization.yaml", "resources:", "resources: [");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "apps/base/podinfo/kustomization.yaml"),
                object: "",
                field: "",
                message: "YAML syntax error: Block collections are not allowed within flow collections at line 4, column 3",
            },
        ]);
    });

    it("warns about a kind no schema knows, naming how to add one, and refuses it with strict", async (t) => {
        const dir = copyOfDeploy(t);
        appendFileSync(path.join(dir, "infrastructure/controllers/kustomization.yaml"), "  - widget.yaml\n");
        writeFileSync(path.join(dir, "infrastructure/controllers/widget.yaml"), "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n");
        const unknown = {
            file: path.join(dir, "infrastructure/controllers/widget.yaml"),
            object: "Widget/w",
            field: "apiVersion",
            message:
                "no schema for Widget (example.com/v1): not in the Kubernetes, Flux or bundled operator schemas, nor a CRD of the tree " +
                "(add its CRD to the tree or a JSON schema with --schema-location <dir>)",
        };
        const report = await validateTree(dir);
        assert.deepEqual(report.warnings, [{ ...unknown, severity: "warning" }]);
        await expectProblems(() => validateTree(dir, { strict: true }), [unknown]);
    });

    it("checks a cert-manager Certificate against its schema package", async (t) => {
        const dir = copyOfDeploy(t);
        appendFileSync(path.join(dir, "infrastructure/controllers/kustomization.yaml"), "  - certificate.yaml\n");
        writeFileSync(
            path.join(dir, "infrastructure/controllers/certificate.yaml"),
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: tls\n  namespace: traefik\nspec:\n  secretName: tls\n  issuerRef: {name: x}\n  duration: 30\n",
        );
        await expectProblems(() => validateTree(dir), [
            { file: path.join(dir, "infrastructure/controllers/certificate.yaml"), object: "Certificate/tls", field: "spec.duration", message: "must be string (got 30)" },
        ]);
    });

    it("warns about an apiVersion of a known kind that the schemas do not have, naming the versions they have", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "infrastructure/controllers/traefik.yaml", "helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v3");
        const report = await validateTree(dir);
        assert.deepEqual(report.warnings, [
            {
                file: path.join(dir, "infrastructure/controllers/traefik.yaml"),
                object: "HelmRelease/traefik",
                field: "apiVersion",
                message:
                    "no schema for HelmRelease in helm.toolkit.fluxcd.io/v3; the versions known are helm.toolkit.fluxcd.io/v2, helm.toolkit.fluxcd.io/v2beta1, " +
                    "helm.toolkit.fluxcd.io/v2beta2 (add its CRD to the tree or a JSON schema with --schema-location <dir>)",
                severity: "warning",
            },
        ]);
    });

    it("names the kustomization and the entry that references a missing file, once", async (t) => {
        const dir = copyOfDeploy(t);
        appendFileSync(path.join(dir, "apps/base/podinfo/kustomization.yaml"), "  - service-monitor.yaml\n");
        // apps/dev includes ../base/podinfo: it is not built, so the mistake is not reported twice.
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "apps/base/podinfo/kustomization.yaml"),
                object: "Kustomization",
                field: "resources[3]",
                message: '"service-monitor.yaml" does not exist',
            },
        ]);
    });

    it("rejects a patch that does not exist and a directory without a kustomization.yaml", async (t) => {
        const dir = copyOfDeploy(t);
        rmSync(path.join(dir, "apps/dev/podinfo-values.yaml"));
        mkdirSync(path.join(dir, "apps/base/empty"));
        edit(dir, "apps/dev/kustomization.yaml", "  - ../base/podinfo", "  - ../base/podinfo\n  - ../base/empty");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "apps/dev/kustomization.yaml"),
                object: "Kustomization",
                field: "resources[1]",
                message: '"../base/empty" is a directory without a kustomization.yaml',
            },
            {
                file: path.join(dir, "apps/dev/kustomization.yaml"),
                object: "Kustomization",
                field: "patches[0].path",
                message: '"podinfo-values.yaml" does not exist',
            },
        ]);
    });

    it("rejects a reference outside the tree, which would not be uploaded", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "apps/dev/kustomization.yaml", "  - ../base/podinfo", "  - ../../../shared/podinfo");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "apps/dev/kustomization.yaml"),
                object: "Kustomization",
                field: "resources[0]",
                message: '"../../../shared/podinfo" is outside the tree, so it would not be uploaded with it',
            },
        ]);
    });

    it("accepts a patch from a folder beside the kustomization, as Flux does", async (t) => {
        const dir = copyOfDeploy(t);
        mkdirSync(path.join(dir, "apps/patches"));
        writeFileSync(path.join(dir, "apps/patches/podinfo-values.yaml"), readFileSync(path.join(dir, "apps/dev/podinfo-values.yaml")));
        rmSync(path.join(dir, "apps/dev/podinfo-values.yaml"));
        edit(dir, "apps/dev/kustomization.yaml", "path: podinfo-values.yaml", "path: ../patches/podinfo-values.yaml");
        await validateTree(dir);
    });

    it("reports a kustomize build failure with kustomize's own reason", async (t) => {
        const dir = copyOfDeploy(t);
        writeFileSync(path.join(dir, "infrastructure/controllers/namespace.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: traefik\n");
        appendFileSync(path.join(dir, "infrastructure/controllers/kustomization.yaml"), "  - namespace.yaml\n");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "infrastructure/controllers/kustomization.yaml"),
                object: "Kustomization",
                field: "",
                message:
                    "kustomize build failed: accumulating resources: accumulation err='merging resources from 'namespace.yaml': " +
                    "may not add resource with an already registered id: Namespace.v1.[noGrp]/traefik.[noNs]'",
            },
        ]);
    });

    it("schema-checks what a patch produces, naming the kustomization that applies it", async (t) => {
        const dir = copyOfDeploy(t);
        appendFileSync(path.join(dir, "apps/dev/podinfo-values.yaml"), "  timeout: 300\n");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "apps/dev/kustomization.yaml"),
                object: "HelmRelease/podinfo",
                field: "spec.timeout",
                message: "must be string (got 300) in the kustomize build output",
            },
        ]);
    });

    it("rejects a Flux Kustomization whose spec.path is not a directory of the bucket", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "clusters/dev/apps.yaml", "path: ./apps/dev", "path: ./apps/staging");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "clusters/dev/apps.yaml"),
                object: "Kustomization/apps",
                field: "spec.path",
                message: '"./apps/staging" is not a directory of the tree',
            },
        ]);
    });

    it("requires metadata.name", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "apps/base/podinfo/repository.yaml", "  name: podinfo\n", "");
        await expectProblems(() => validateTree(dir), [
            {
                file: path.join(dir, "apps/base/podinfo/repository.yaml"),
                object: "HelmRepository/(no name)",
                field: "metadata.name",
                message: "is required",
            },
        ]);
    });

    it("names files relative to the directory it was given", async (t) => {
        const dir = copyOfDeploy(t);
        edit(dir, "clusters/dev/infrastructure.yaml", "prune: true", "prune: yes please");
        const relative = path.relative(process.cwd(), dir);
        await expectProblems(() => validateTree(relative), [
            {
                file: path.join(relative, "clusters/dev/infrastructure.yaml"),
                object: "Kustomization/infrastructure-controllers",
                field: "spec.prune",
                message: 'must be boolean (got "yes please")',
            },
        ]);
    });

    it("rejects a tree without any YAML, such as a wrong directory", async (t) => {
        const dir = mkdtempSync(path.join(tmpdir(), "flux-bucket-empty-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        writeFileSync(path.join(dir, "README.md"), "not a manifest\n");
        await expectProblems(() => validateTree(dir), [{ file: dir, object: "", field: "", message: "has no *.yaml or *.yml files" }]);
    });
});
