import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ManifestValidationError, validateTree, type Problem } from "../../src/validate/index.ts";
import { treeOf } from "./expectProblems.ts";
import { fleetTree, ROOT_PATH } from "./fleetTree.ts";

// Issue 23: what Flux applies and bucketops refused. Each pattern, found in public fleet repositories
// (docs/validation-corpus.md), is in tests/validate/fleetTree.ts; these tests show each one is accepted for the
// reason Flux accepts it (removing that reason makes it a refusal), and that nothing here reaches the network.

async function problemsOf(run: Promise<unknown>): Promise<Problem[]> {
    try {
        await run;
        return [];
    } catch (error) {
        if (error instanceof ManifestValidationError) return error.problems;
        throw error;
    }
}

const relative = (dir: string, problems: Problem[]) => problems.map((problem) => ({ ...problem, file: path.relative(dir, problem.file) }));

describe("validation agrees with Flux on a fleet tree (issue 23)", { concurrency: true }, () => {
    it("passes the fleet tree, warning only about remote references and an API version newer than the schemas, noting what Flux never applies", async (t) => {
        const dir = treeOf(t, fleetTree());
        const report = await validateTree(dir, { rootPath: ROOT_PATH });
        assert.equal(report.mode, "flux");
        assert.deepEqual(
            relative(dir, report.warnings).map(({ file, field, message }) => `${file} ${field}: ${message.split(" (")[0]}`),
            [
                'apps/base/kustomization.yaml resources[3]: "github.com/example/platform//crds?ref=v1.0.0" is remote and not checked offline',
                'apps/base/kustomization.yaml resources[4]: "https://example.com/releases/v1/crds.yaml" is remote and not checked offline',
                'apps/base/kustomization.yaml configMapGenerator[0].files[0]: "https://example.com/settings.env" is remote and not checked offline',
                "infrastructure/policy.yaml apiVersion: no schema for MutatingAdmissionPolicy in admissionregistration.k8s.io/v1beta1; the versions known are admissionregistration.k8s.io/v1",
            ],
        );
        // .github/workflows/ci.yaml is in a hidden folder (never listed); helmfile.yaml is outside every Flux path.
        assert.deepEqual(report.notes, ["1 YAML file(s) are not applied by any Flux entry point and were not validated (e.g. helmfile.yaml)"]);
    });

    it("finds the entry points without a root path: the cluster folder that declares the Bucket Kustomizations", async (t) => {
        const dir = treeOf(t, fleetTree());
        const report = await validateTree(dir);
        assert.equal(report.mode, "flux");
        assert.equal(report.warnings.length, 4);
    });

    it("(3) accepts a Secret's base64 wrapped over several lines, as kustomize's secretGenerator writes a file of 52 bytes or more", async () => {
        const { validateObjects } = await import("../../src/validate/index.ts");
        const data = Buffer.from("log-level=debug\nlisten=0.0.0.0:8080\nfeature-flags=a,b,c\n").toString("base64");
        const wrapped = `${data.slice(0, 40)}\n${data.slice(40)}`;
        await validateObjects([{ file: "s.yaml", object: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { "config.txt": wrapped } } }]);
        await assert.rejects(
            validateObjects([{ file: "s.yaml", object: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { "config.txt": `${wrapped}!` } } }]),
            /must match format "byte"/,
        );
    });

    it("(4) children take interval and prune from the parent's spec.patches; without the patch they are refused", async (t) => {
        const tree = fleetTree();
        const dir = treeOf(t, { ...tree, "clusters/prod/tenants.yaml": tree["clusters/prod/tenants.yaml"].replace(/ {2}patches:[\s\S]*$/, "") });
        const problems = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH })));
        assert.deepEqual(
            problems.map(({ file, object, field, message }) => `${file}: ${object}: ${field}: ${message}`),
            ["tenants/team-a.yaml: Kustomization/team-a: spec.interval: is required", "tenants/team-a.yaml: Kustomization/team-a: spec.prune: is required"],
        );
    });

    it("(5) accepts SOPS-encrypted values under decryption with sops, and refuses them when the Kustomization does not decrypt", async (t) => {
        const tree = fleetTree();
        const dir = treeOf(t, { ...tree, "clusters/prod/infrastructure.yaml": tree["clusters/prod/infrastructure.yaml"].replace(/ {2}decryption:[\s\S]*$/, "") });
        const problems = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH })));
        assert.equal(problems.length, 1);
        assert.equal(problems[0].file, "infrastructure/secret.sops.yaml");
        assert.match(problems[0].message, /is SOPS-encrypted, but the Flux Kustomization that applies it \(Kustomization\/infrastructure\) has no spec.decryption/);
    });

    it("(6) substitutes postBuild variables as Flux does: a wrong value is refused where it is used", async (t) => {
        const tree = fleetTree();
        const dir = treeOf(t, { ...tree, "clusters/prod/apps.yaml": tree["clusters/prod/apps.yaml"].replace('REPLICAS: "2"', "REPLICAS: many") });
        const problems = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH })));
        assert.deepEqual(problems, [
            { file: "apps/base/deployment.yaml", object: "Deployment/web", field: "spec.replicas", message: 'must be integer (got "many") after postBuild substitution (Kustomization/apps)' },
        ]);
    });

    it("(6) without substituteFrom, an unset variable is empty (Flux's non-strict mapping) and its default applies", async (t) => {
        const tree = fleetTree();
        const apps = tree["clusters/prod/apps.yaml"].replace(/ {4}substituteFrom:[\s\S]*$/, "").replace('REPLICAS: "2"', 'REPLICAS: "2"\n      MEMORY: 64Mi');
        const dir = treeOf(t, { ...tree, "clusters/prod/apps.yaml": apps });
        await validateTree(dir, { rootPath: ROOT_PATH });
    });

    it("(8) --strict refuses a kind no schema knows", async (t) => {
        const dir = treeOf(t, fleetTree());
        const problems = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH, strict: true })));
        assert.deepEqual(
            problems.map(({ file, field }) => `${file} ${field}`),
            ["infrastructure/policy.yaml apiVersion"],
        );
    });

    it("(10) an empty kustomization.yaml builds at a Flux path, and is refused where another kustomization includes it, as in Flux", async (t) => {
        const tree = fleetTree();
        const dir = treeOf(t, { ...tree, "apps/prod/kustomization.yaml": "resources:\n  - ../base\n  - ../team-a\n" });
        const problems = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH })));
        assert.equal(problems.length, 1);
        assert.equal(problems[0].file, "apps/prod/kustomization.yaml");
        assert.match(problems[0].message, /kustomization.yaml is empty/);
    });

    it("(1) a CRD of the tree checks its custom resources: type, enum, required, int-or-string, nullable", async (t) => {
        const tree = fleetTree();
        const dir = treeOf(t, { ...tree, "apps/base/widget.yaml": tree["apps/base/widget.yaml"].replace("size: 3", "size: big").replace("colour: red", "colour: blue") });
        const problems = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH })));
        assert.deepEqual(
            problems.map(({ file, field, message }) => `${file} ${field}: ${message}`),
            ['apps/base/widget.yaml spec.size: must be integer (got "big")', 'apps/base/widget.yaml spec.colour: must be one of red, green (got "blue")'],
        );
    });

    it("(1) a user schema in kubeconform's layout (a folder, or a template; URLs are not fetched) checks a kind nothing else knows", async (t) => {
        const tree = fleetTree();
        const schemas = treeOf(t, {
            "admissionregistration.k8s.io/mutatingadmissionpolicy_v1beta1.json": JSON.stringify({
                type: "object",
                properties: { spec: { type: "object", properties: { mutations: { type: "array", minItems: 1 } } } },
            }),
        });
        const dir = treeOf(t, tree);
        const expected = ["infrastructure/policy.yaml spec.mutations: must NOT have fewer than 1 items"];
        const problems = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH, schemaLocations: [schemas] })));
        assert.deepEqual(problems.map(({ file, field, message }) => `${file} ${field}: ${message}`), expected);
        // The same schema named by a template of kubeconform's variables.
        const template = path.join(schemas, "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json");
        const templated = relative(dir, await problemsOf(validateTree(dir, { rootPath: ROOT_PATH, schemaLocations: ["https://example.com/{{ .ResourceKind }}.json", template] })));
        assert.deepEqual(templated.map(({ file, field, message }) => `${file} ${field}: ${message}`), expected);
    });

    it("(9) leaves out remote references even in a hidden folder that Flux's generator lists", async (t) => {
        const dir = treeOf(t, {
            "clusters/prod/platform.yaml":
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: platform\n  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n  path: ./platform\n  sourceRef:\n    kind: Bucket\n    name: flux-bucket\n",
            "platform/.vendor/kustomization.yaml": "resources:\n  - https://example.com/releases/v1/crds.yaml\n  - cm.yaml\n",
            "platform/.vendor/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vendored\ndata:\n  a: b\n",
        });
        const report = await validateTree(dir, { rootPath: ROOT_PATH });
        assert.equal(report.mode, "flux");
    });

    it("falls back to the whole tree when there is no Flux entry point, and checks a base through the overlay that completes it", async (t) => {
        const dir = treeOf(t, {
            "base/kustomization.yaml": "resources: [issuer.yaml]\n",
            // spec.acme.server is required: the overlay adds it (controlplaneio-fluxcd/d2-infra's pattern).
            "base/issuer.yaml": "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: le\nspec:\n  acme:\n    privateKeySecretRef: {name: le}\n",
            "staging/kustomization.yaml":
                "resources: [../base]\npatches:\n  - patch: |-\n      - op: add\n        path: /spec/acme/server\n        value: https://acme-staging-v02.api.letsencrypt.org/directory\n    target: {kind: ClusterIssuer}\n",
            "notes.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  n: 1\n",
        });
        const problems = relative(dir, await problemsOf(validateTree(dir)));
        assert.deepEqual(problems, [{ file: "notes.yaml", object: "ConfigMap/notes", field: "data.n", message: "must be string (got 1)" }]);
    });
});
