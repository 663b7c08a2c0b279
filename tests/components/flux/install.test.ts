import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { FluxInstall } from "../../../components/flux/index.ts";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { only, runComponents } from "../../support/offline.ts";

describe("FluxInstall", () => {
    let run: OfflineRun;
    before(async () => {
        run = await runComponents(() => {
            new FluxInstall("flux", {
                namespace: "flux-system",
                chartVersion: "2.18.3",
                values: { crds: { annotations: { team: "platform" } }, logLevel: "debug" },
            });
        });
    });

    test("creates the namespace", () => {
        assert.deepEqual(only(run, "kubernetes:core/v1:Namespace").inputs.metadata.name, "flux-system");
    });

    test("installs the fluxcd-community flux2 chart at the given version into it", () => {
        const release = only(run, "kubernetes:helm.sh/v3:Release").inputs;
        assert.equal(release.chart, "flux2");
        assert.equal(release.version, "2.18.3");
        assert.deepEqual(release.repositoryOpts, { repo: "https://fluxcd-community.github.io/helm-charts" });
        assert.equal(release.namespace, "flux-system");
        assert.equal(release.waitForJobs, true);
    });

    test("keeps the CRDs when the release is uninstalled, whatever values are passed", () => {
        const { values } = only(run, "kubernetes:helm.sh/v3:Release").inputs;
        assert.deepEqual(values, {
            logLevel: "debug",
            installCRDs: true,
            crds: { annotations: { team: "platform", "helm.sh/resource-policy": "keep" } },
        });
    });
});
