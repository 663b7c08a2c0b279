import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { FluxInstall, workloadIdentityValues } from "../../../components/flux/index.ts";
import { brokenRules } from "../../support/cel.ts";
import { asStackReference, only, runComponents, runFlux, runInfra } from "../../support/offline.ts";
import bucketRules from "./vectors/bucketSpecValidations.json" with { type: "json" };

const BUCKET = "kubernetes:source.toolkit.fluxcd.io/v1:Bucket";
const chartValues = parse(readFileSync(path.join(import.meta.dirname, "vectors/flux2-2.18.3-sourceController-values.yaml"), "utf8"));

/** The dotted paths of the leaves and lists in a values object. */
const leaves = (value: unknown, prefix = ""): string[] =>
    value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0
        ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, prefix ? `${prefix}.${key}` : key))
        : [prefix];

describe("workload identity in the Flux objects, checked against what the deployed Flux accepts", () => {
    test("every Bucket the flux stack creates passes the Bucket CRD's own rules (chart 2.18.3's x-kubernetes-validations)", async () => {
        const eks = { cluster: "eks", provider: "aws" };
        const cases = [
            await runInfra({ provider: "aws" }),
            await runInfra(eks),
            await runInfra({ cluster: "gke", provider: "gcp", gcpProject: "acme-prod" }),
        ];
        for (const infra of cases) {
            const flux = await runFlux({}, asStackReference(infra));
            assert.deepEqual(brokenRules(bucketRules, only(flux, BUCKET).inputs.spec), [], String(infra.outputs.auth));
        }
        const fleet = await runInfra({ ...eks, environments: JSON.stringify(["dev"]) }, "fleet");
        const dev = await runFlux({ environment: "dev" }, asStackReference(fleet), { stack: "fleet-flux", infraStack: "organization/flux-bucket/fleet" });
        assert.deepEqual(brokenRules(bucketRules, only(dev, BUCKET).inputs.spec), []);
        // The rules are live: a Secret and a service account together, or a generic Bucket with a service account, are refused.
        assert.deepEqual(brokenRules(bucketRules, { ...only(dev, BUCKET).inputs.spec, secretRef: { name: "keys" } }), ["cannot set both .spec.secretRef and .spec.serviceAccountName"]);
        assert.deepEqual(brokenRules(bucketRules, { bucketName: "b", serviceAccountName: "sa" }), ["ServiceAccountName is not supported for the 'generic' Bucket provider"]);
    });

    test("the chart values it sets are chart 2.18.3's own keys, merged with the caller's", async () => {
        const values = workloadIdentityValues(
            { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r" }, objectLevel: true },
            { sourceController: { serviceAccount: { annotations: { team: "platform" } }, container: { additionalArgs: ["--log-level=debug"] } } },
        );
        assert.deepEqual(values.sourceController, {
            serviceAccount: { annotations: { team: "platform", "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r" } },
            container: { additionalArgs: ["--log-level=debug", "--feature-gates=ObjectLevelWorkloadIdentity=true"] },
        });
        const known = new Set(leaves(chartValues.sourceController));
        for (const key of ["serviceAccount.annotations", "container.additionalArgs"]) assert.ok(known.has(key), `sourceController.${key} is in chart 2.18.3's values.yaml`);

        const run = await runComponents(
            () => new FluxInstall("flux", { namespace: "flux-system", chartVersion: "2.18.3", workloadIdentity: { objectLevel: true }, values: { logLevel: "debug" } }),
        );
        const release = only(run, "kubernetes:helm.sh/v3:Release").inputs.values;
        assert.equal(release.logLevel, "debug");
        assert.deepEqual(release.sourceController.container.additionalArgs, ["--feature-gates=ObjectLevelWorkloadIdentity=true"]);
        assert.equal(release.sourceController.tag, "v1.8.5");
    });
});
