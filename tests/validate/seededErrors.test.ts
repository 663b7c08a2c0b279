import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ManifestValidationError, validateTree } from "../../src/validate/index.ts";
import { treeOf } from "./expectProblems.ts";
import { fleetTree, ROOT_PATH } from "./fleetTree.ts";

// Issue 23: validation that accepts what Flux applies must still refuse what Flux (or the API server) would not.
// Each seed breaks the clean fleet tree (tests/validate/fleetTree.ts) in one way; each must be refused, naming the
// file where the mistake is. A seed that slips through fails its test.

type Seed = { what: string; file: string; change: (tree: Record<string, string>) => Record<string, string>; message: RegExp };

const replace = (file: string, from: string | RegExp, to: string) => (tree: Record<string, string>) => {
    const text = tree[file];
    if (!(typeof from === "string" ? text.includes(from) : from.test(text))) throw new Error(`${file} has no ${from}`);
    return { ...tree, [file]: text.replace(from, to) };
};
const add = (file: string, content: string) => (tree: Record<string, string>) => ({ ...tree, [file]: content });

const SEEDS: Seed[] = [
    { what: "a type error in a core kind", file: "apps/base/deployment.yaml", change: replace("apps/base/deployment.yaml", "name: web\n          image", "name: 7\n          image"), message: /must be string/ },
    { what: "an enum value a core kind does not allow", file: "apps/base/deployment.yaml", change: replace("apps/base/deployment.yaml", /imagePullPolicy: .*/, "imagePullPolicy: Sometimes"), message: /must be one of Always, IfNotPresent, Never/ },
    { what: "broken YAML in an applied file", file: "apps/base/widget.yaml", change: replace("apps/base/widget.yaml", "size: 3", "size: [3"), message: /YAML syntax error/ },
    { what: "a resource listed but missing", file: "apps/base/kustomization.yaml", change: replace("apps/base/kustomization.yaml", "  - pvc.yaml\n", "  - pvc.yaml\n  - service.yaml\n"), message: /"service.yaml" does not exist/ },
    { what: "a Flux spec.path that does not exist", file: "clusters/prod/apps.yaml", change: replace("clusters/prod/apps.yaml", "path: ./apps/prod", "path: ./apps/production"), message: /"\.\/apps\/production" is not a directory of the tree/ },
    { what: "a ConfigMap over the API server's 1 MiB", file: "infrastructure/big.yaml", change: add("infrastructure/big.yaml", `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: "${"x".repeat(1100 * 1024)}"\n`), message: /the API server takes at most 1\.00 MiB in a ConfigMap/ },
    { what: "a CR whose field has the wrong type for its in-tree CRD", file: "apps/base/widget.yaml", change: replace("apps/base/widget.yaml", "size: 3", "size: three"), message: /spec\.size.*must be integer/ },
    { what: "a CR missing a field its in-tree CRD requires", file: "apps/base/widget.yaml", change: replace("apps/base/widget.yaml", "  size: 3\n", ""), message: /spec\.size.*is required/ },
    { what: "a CR below its in-tree CRD's minimum", file: "apps/base/widget.yaml", change: replace("apps/base/widget.yaml", "size: 3", "size: 0"), message: /must be >= 1/ },
    { what: "a CR that breaks its in-tree CRD's CEL rule", file: "apps/base/widget.yaml", change: replace("apps/base/widget.yaml", "size: 3", "size: 11"), message: /spec: size must be at most 10/ },
    { what: "a CR value outside its in-tree CRD's enum", file: "apps/base/widget.yaml", change: replace("apps/base/widget.yaml", "colour: red", "colour: blue"), message: /must be one of red, green/ },
    { what: "a Flux Kustomization without sourceRef", file: "clusters/prod/apps.yaml", change: replace("clusters/prod/apps.yaml", "  sourceRef:\n    kind: Bucket\n    name: flux-bucket\n", ""), message: /spec\.sourceRef.*is required/ },
    { what: "a Flux Kustomization interval of the wrong type", file: "clusters/prod/infrastructure.yaml", change: replace("clusters/prod/infrastructure.yaml", "interval: 10m", "interval: 10"), message: /spec\.interval.*must be string/ },
    { what: "a Secret whose data is not base64", file: "infrastructure/plain-secret.yaml", change: add("infrastructure/plain-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\n  namespace: apps\ndata:\n  token: not base64!\n"), message: /must match format "byte"/ },
    { what: "a SOPS-encrypted Secret under a Kustomization that does not decrypt", file: "apps/base/db.sops.yaml", change: (tree) => ({ ...replace("apps/base/kustomization.yaml", "  - pvc.yaml\n", "  - pvc.yaml\n  - db.sops.yaml\n")(tree), "apps/base/db.sops.yaml": tree["infrastructure/secret.sops.yaml"].replace("name: db", "name: db2") }), message: /is SOPS-encrypted, but the Flux Kustomization that applies it \(Kustomization\/apps\) has no spec\.decryption/ },
    { what: "a postBuild value of the wrong type", file: "apps/base/deployment.yaml", change: replace("clusters/prod/apps.yaml", 'REPLICAS: "2"', "REPLICAS: two"), message: /spec\.replicas.*after postBuild substitution/ },
    { what: "a value from the substituteFrom ConfigMap of the tree that its field does not take", file: "apps/base/deployment.yaml", change: replace("clusters/prod/cluster-settings.yaml", "MEMORY: 64Mi", "MEMORY: lots"), message: /memory.*after postBuild substitution/ },
    { what: "a postBuild expression Flux cannot parse", file: "apps/base/pvc.yaml", change: replace("apps/base/pvc.yaml", '"${STORAGE:=1Gi}"', '"${STORAGE:=1Gi"'), message: /variable substitution failed/ },
    { what: "a cert-manager ClusterIssuer without its ACME server", file: "infrastructure/issuer.yaml", change: replace("infrastructure/issuer.yaml", "    server: https://acme-v02.api.letsencrypt.org/directory\n", ""), message: /spec\.acme\.server.*is required/ },
    { what: "a Gateway API HTTPRoute backend port of the wrong type", file: "infrastructure/gateway.yaml", change: replace("infrastructure/gateway.yaml", "port: 80", "port: http"), message: /port.*must be integer/ },
    { what: "a PodMonitor without its selector", file: "infrastructure/monitor.yaml", change: replace("infrastructure/monitor.yaml", "  selector: {matchLabels: {app: web}}\n", ""), message: /spec\.selector.*is required/ },
    { what: "a resource without metadata.name", file: "apps/base/pvc.yaml", change: replace("apps/base/pvc.yaml", "  name: data\n", "  labels: {a: b}\n"), message: /metadata\.name.*is required/ },
    { what: "a resource without kind", file: "apps/base/widget.yaml", change: replace("apps/base/widget.yaml", "kind: Widget\n", ""), message: /kind.*is required/ },
    { what: "a mistake in a file Flux's generator lists (no kustomization.yaml)", file: "infrastructure/monitor.yaml", change: replace("infrastructure/monitor.yaml", "podMetricsEndpoints: [{port: http}]", "podMetricsEndpoints: {port: http}"), message: /podMetricsEndpoints.*must be array/ },
    { what: "a parent's spec.patches that breaks its children", file: "clusters/prod/tenants.yaml", change: replace("clusters/prod/tenants.yaml", "interval: 30m", "interval: 30"), message: /spec\.interval.*must be string.*in the kustomize build output/ },
    { what: "an ArtifactGenerator with a wrong field type", file: "clusters/prod/artifacts.yaml", change: replace("clusters/prod/artifacts.yaml", "    - alias: repo", "    - alias: 7"), message: /alias.*must be string/ },
    { what: "a FluxInstance with a wrong field type", file: "clusters/prod/flux-instance.yaml", change: replace("clusters/prod/flux-instance.yaml", "components: [source-controller", "components: [7"), message: /components.*must be/ },
    { what: "a ResourceSetInputProvider type that Flux Operator does not have", file: "addons/prod/provider.yaml", change: replace("addons/prod/provider.yaml", "type: Static", "type: Dynamic"), message: /type.*must be one of/ },
    { what: "an Alert event source kind notification-controller does not allow", file: "infrastructure/alert.yaml", change: add("infrastructure/alert.yaml", "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Alert\nmetadata:\n  name: all\n  namespace: flux-system\nspec:\n  providerRef: {name: slack}\n  eventSources: [{kind: FluxInstance, name: '*'}]\n"), message: /eventSources\[0\]\.kind.*must be one of/ },
    { what: "an empty kustomization.yaml that another one includes", file: "apps/prod/kustomization.yaml", change: replace("apps/prod/kustomization.yaml", "  - ../base\n", "  - ../base\n  - ../team-a\n"), message: /kustomization\.yaml is empty/ },
];

describe("seeded errors in the fleet tree are each refused, naming the file (issue 23)", { concurrency: true }, () => {
    it("has at least 20 seeds", () => assert.ok(SEEDS.length >= 20));

    for (const seed of SEEDS) {
        it(`refuses ${seed.what}`, async (t) => {
            const dir = treeOf(t, seed.change(fleetTree()));
            const error = await validateTree(dir, { rootPath: ROOT_PATH }).then(
                () => undefined,
                (thrown: unknown) => thrown,
            );
            assert.ok(error instanceof ManifestValidationError, `slipped through: ${seed.what}`);
            const named = error.problems.filter((problem) => path.relative(dir, problem.file) === seed.file);
            assert.ok(named.length > 0, `no problem names ${seed.file}:\n${error.message}`);
            assert.ok(
                named.some((problem) => seed.message.test(`${problem.field}: ${problem.message}`)),
                `no problem in ${seed.file} matches ${seed.message}:\n${error.message}`,
            );
        });
    }
});
