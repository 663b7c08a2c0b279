import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { FluxInstall } from "../../../components/flux/index.ts";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { only, runComponents } from "../../support/offline.ts";

/** Flux 2.8.8's image tags, as fluxcd/flux2 v2.8.8 manifests/bases/<controller>/kustomization.yaml pin them. */
const FLUX_2_8_8 = {
    cli: { tag: "v2.8.8" },
    sourceController: { tag: "v1.8.5" },
    kustomizeController: { tag: "v1.8.5" },
    helmController: { tag: "v1.5.5" },
    notificationController: { tag: "v1.8.4" },
    imageReflectionController: { tag: "v1.1.2" },
    imageAutomationController: { tag: "v1.1.4" },
    sourceWatcher: { tag: "v2.1.1" },
};

describe("FluxInstall", () => {
    let run: OfflineRun;
    before(async () => {
        run = await runComponents(() => {
            new FluxInstall("flux", {
                namespace: "flux-system",
                chartVersion: "2.18.3",
                values: { crds: { annotations: { team: "platform" } }, logLevel: "debug", sourceController: { resources: { limits: { memory: "1Gi" } } } },
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
        assert.deepEqual(values.crds, { annotations: { team: "platform", "helm.sh/resource-policy": "keep" } });
        assert.equal(values.installCRDs, true);
        assert.equal(values.logLevel, "debug");
    });

    test("runs Flux 2.8.8's images by default (the chart ships 2.8.5), keeping other values of each controller", () => {
        const { values } = only(run, "kubernetes:helm.sh/v3:Release").inputs;
        const { crds: _crds, installCRDs: _installCRDs, logLevel: _logLevel, ...images } = values;
        assert.deepEqual(images, { ...FLUX_2_8_8, sourceController: { resources: { limits: { memory: "1Gi" } }, tag: "v1.8.5" } });
    });

    test("runs the chart's own Flux 2.8.5 images when asked", async () => {
        const chartOwn = await runComponents(() => {
            new FluxInstall("flux", { namespace: "flux-system", chartVersion: "2.18.3", fluxRelease: "2.8.5" });
        });
        const { values } = only(chartOwn, "kubernetes:helm.sh/v3:Release").inputs;
        // chart 2.18.3's values.yaml (fluxcd-community/helm-charts tag flux2-2.18.3)
        assert.deepEqual(
            Object.fromEntries(Object.keys(FLUX_2_8_8).map((image) => [image, values[image].tag])),
            {
                cli: "v2.8.5",
                sourceController: "v1.8.2",
                kustomizeController: "v1.8.3",
                helmController: "v1.5.3",
                notificationController: "v1.8.3",
                imageReflectionController: "v1.1.1",
                imageAutomationController: "v1.1.1",
                sourceWatcher: "v2.1.1",
            },
        );
    });
});
