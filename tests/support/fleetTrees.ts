import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ManifestTree } from "./trees.ts";

/**
 * A fleet tree of the size and shape of the largest repository of docs/validation-corpus.md (xunholy/k8s-gitops:
 * 757 files, 84 app Kustomizations): a cluster folder whose Flux Kustomization patches every child (defaults, as
 * fleets do) and substitutes from the cluster, namespaces in folders of their own, and per app a Flux Kustomization
 * reading the Bucket (targetNamespace, postBuild) over an app folder with a kustomization (namespace,
 * configMapGenerator) listing a HelmRepository, a HelmRelease, a Service, an HTTPRoute and a NetworkPolicy. Written
 * here; valid.
 */
export function writeFleetTree(root: string, apps = 84, namespaces = 16): ManifestTree {
    let files = 0;
    const write = (file: string, content: string) => {
        mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        writeFileSync(path.join(root, file), content);
        files++;
    };
    const bucket = "  sourceRef:\n    kind: Bucket\n    name: flux-bucket\n";
    write(
        "clusters/prod/apps.yaml",
        `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n  path: ./apps\n${bucket}` +
            "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n" +
            "  patches:\n    - patch: |-\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata:\n          name: all\n        spec:\n          interval: 30m\n          prune: true\n          postBuild:\n            substituteFrom:\n              - kind: ConfigMap\n                name: cluster-settings\n      target:\n        kind: Kustomization\n",
    );
    const appFolders: string[] = [];
    for (let n = 0; n < namespaces; n++) {
        const namespace = `team-${String(n).padStart(2, "0")}`;
        write(`apps/${namespace}/namespace.yaml`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n`);
        appFolders.push(`apps/${namespace}`);
    }
    for (let a = 0; a < apps; a++) {
        const namespace = `team-${String(a % namespaces).padStart(2, "0")}`;
        const app = `app-${String(a).padStart(3, "0")}`;
        const dir = `apps/${namespace}/${app}`;
        write(
            `${dir}/ks.yaml`,
            `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${app}\n  namespace: flux-system\nspec:\n  path: ./${dir}/app\n  targetNamespace: ${namespace}\n${bucket}  postBuild:\n    substitute:\n      APP: ${app}\n`,
        );
        write(
            `${dir}/app/kustomization.yaml`,
            `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${namespace}\nresources:\n  - repository.yaml\n  - release.yaml\n  - service.yaml\n  - route.yaml\n  - networkpolicy.yaml\nconfigMapGenerator:\n  - name: \${APP}-values\n    files: [values.yaml]\ngeneratorOptions:\n  disableNameSuffixHash: true\n`,
        );
        write(`${dir}/app/repository.yaml`, `apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: \${APP}\nspec:\n  interval: 1h\n  url: https://charts.example.com/${app}\n`);
        write(
            `${dir}/app/release.yaml`,
            `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: \${APP}\nspec:\n  interval: 30m\n  chart:\n    spec:\n      chart: ${app}\n      version: 1.2.3\n      sourceRef:\n        kind: HelmRepository\n        name: \${APP}\n  valuesFrom:\n    - kind: ConfigMap\n      name: \${APP}-values\n`,
        );
        write(`${dir}/app/service.yaml`, `apiVersion: v1\nkind: Service\nmetadata:\n  name: \${APP}\nspec:\n  selector:\n    app: \${APP}\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n`);
        write(
            `${dir}/app/route.yaml`,
            `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: \${APP}\nspec:\n  parentRefs: [{name: gateway, namespace: network}]\n  hostnames: ["\${APP}.\${CLUSTER_DOMAIN}"]\n  rules:\n    - backendRefs:\n        - name: \${APP}\n          port: 80\n`,
        );
        write(`${dir}/app/values.yaml`, `replicaCount: ${1 + (a % 3)}\nimage:\n  tag: "1.${a}.0"\n`);
        write(
            `${dir}/app/networkpolicy.yaml`,
            `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: \${APP}\nspec:\n  podSelector:\n    matchLabels:\n      app: \${APP}\n  policyTypes: [Ingress]\n`,
        );
        // Not every app has its notes, as in the repository whose shape this is (757 files in all).
        if (a < 67) write(`${dir}/README.md`, `# ${app}\n\nOwned by ${namespace}.\n`);
        appFolders.push(`${dir}/ks.yaml`);
    }
    // What ./apps applies: the namespaces and the apps' Flux Kustomizations (each app's folder is its own build).
    write("apps/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${appFolders.map((entry) => `  - ${entry.replace(/^apps\//, "")}${entry.endsWith(".yaml") ? "" : "/namespace.yaml"}\n`).join("")}`);
    return { root, fileCount: files, manifestCount: files, changedFile: path.join(root, "apps/team-00/app-000/app/values.yaml") };
}
