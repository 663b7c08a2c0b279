// A small fleet tree written here, with the patterns found in public Flux repositories (docs/validation-corpus.md):
// a root path whose folder has no kustomization.yaml, Flux Kustomizations reading the Bucket with patches,
// postBuild (substitute and substituteFrom), SOPS, CRDs with their CRs in the tree, operators' custom resources,
// an ArtifactGenerator and its ExternalArtifacts, Flux Operator kinds, a secretGenerator, an empty kustomization,
// files Flux never applies. It validates clean; tests break it one way at a time.

export const ROOT_PATH = "./clusters/prod";

const fluxKustomization = (name: string, fields: string) =>
    `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n${fields}`;

const bucket = "  sourceRef:\n    kind: Bucket\n    name: flux-bucket\n";

export const WIDGET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - rule: self.size <= 10
                  message: size must be at most 10
                # Not decidable offline, so not evaluated: a Kubernetes CEL library function, a transition rule.
                - rule: isURL(self.colour)
                - rule: self.size >= oldSelf.size
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
                colour: {type: string, enum: [red, green]}
                port: {x-kubernetes-int-or-string: true}
                note: {type: string, nullable: true}
`;

// A SOPS-encrypted Secret as `sops --encrypt` writes it (values made up; the structure is what matters).
export const SOPS_SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
type: Opaque
stringData:
  password: ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]
data:
  token: ENC[AES256_GCM,data:dG9rZW4=,iv:aXY=,tag:dGFn,type:str]
sops:
  age:
    - recipient: age1qqqq
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        -----END AGE ENCRYPTED FILE-----
  lastmodified: "2025-01-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
  version: 3.9.0
`;

export function fleetTree(): Record<string, string> {
    return {
        // The root path: no kustomization.yaml, so Flux generates one listing every YAML file below it.
        "clusters/prod/infrastructure.yaml": fluxKustomization(
            "infrastructure",
            `  interval: 10m\n  prune: true\n  path: ./infrastructure\n${bucket}  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n`,
        ),
        "clusters/prod/apps.yaml": fluxKustomization(
            "apps",
            `  interval: 10m\n  prune: true\n  path: ./apps/prod\n  targetNamespace: apps\n${bucket}  postBuild:\n    substitute:\n      REPLICAS: "2"\n      ACCESS_MODE: ReadWriteOnce\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-settings\n`,
        ),
        // The fleet pattern: children get interval and prune from the parent's spec.patches.
        "clusters/prod/tenants.yaml": fluxKustomization(
            "tenants",
            `  interval: 10m\n  prune: true\n  path: ./tenants\n${bucket}  patches:\n    - patch: |-\n        apiVersion: kustomize.toolkit.fluxcd.io/v1\n        kind: Kustomization\n        metadata:\n          name: all\n        spec:\n          interval: 30m\n          prune: true\n      target:\n        kind: Kustomization\n`,
        ),
        // What apps' substituteFrom names: in the tree, so its values are known offline (PULL_POLICY is not: a placeholder).
        "clusters/prod/cluster-settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-settings\n  namespace: flux-system\ndata:\n  MEMORY: 64Mi\n",
        "clusters/prod/artifacts.yaml": `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: monorepo
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: Bucket
      name: flux-bucket
  artifacts:
    - name: addons
      originRevision: "@repo"
      copy:
        - from: "@repo/addons/**"
          to: "@artifact/"
---
${fluxKustomization("addons", "  interval: 10m\n  prune: true\n  path: ./prod\n  sourceRef:\n    kind: ExternalArtifact\n    name: addons\n")}`,
        "clusters/prod/flux-instance.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.8.x"
    registry: ghcr.io/fluxcd
  components: [source-controller, kustomize-controller, helm-controller, notification-controller]
`,
        "infrastructure/crds/widgets.yaml": WIDGET_CRD,
        "infrastructure/issuer.yaml":
            "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme:\n    server: https://acme-v02.api.letsencrypt.org/directory\n    privateKeySecretRef: {name: letsencrypt}\n    solvers: [{http01: {ingress: {ingressClassName: traefik}}}]\n",
        "infrastructure/secret.sops.yaml": SOPS_SECRET,
        "infrastructure/gateway.yaml":
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  parentRefs: [{name: gateway}]\n  hostnames: [web.example.com]\n  rules: [{backendRefs: [{name: web, port: 80}]}]\n",
        "infrastructure/monitor.yaml":
            "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  selector: {matchLabels: {app: web}}\n  podMetricsEndpoints: [{port: http}]\n",
        "infrastructure/resourceset.yaml":
            "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  inputs:\n    - tenant: team-a\n  resources:\n    - apiVersion: v1\n      kind: Namespace\n      metadata:\n        name: << inputs.tenant >>\n",
        // A newer API version than the Kubernetes schemas bundled: a warning, not a refusal.
        "infrastructure/policy.yaml":
            "apiVersion: admissionregistration.k8s.io/v1beta1\nkind: MutatingAdmissionPolicy\nmetadata:\n  name: add-label\nspec:\n  matchConstraints: {resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]}\n  mutations: []\n",
        "apps/base/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - widget.yaml
  - pvc.yaml
  - github.com/example/platform//crds?ref=v1.0.0
  - https://example.com/releases/v1/crds.yaml
secretGenerator:
  - name: app-config
    files: [config.txt]
configMapGenerator:
  - name: remote
    files: [https://example.com/settings.env]
`,
        // 52 bytes or more: kustomize wraps the base64 over several lines.
        "apps/base/config.txt": "log-level=debug\nlisten=0.0.0.0:8080\nfeature-flags=a,b,c\n",
        "apps/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: \${REPLICAS}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/stefanprodan/podinfo:6.14.1
          imagePullPolicy: \${PULL_POLICY:=IfNotPresent}
          resources:
            requests:
              memory: \${MEMORY}
`,
        "apps/base/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: web\nspec:\n  size: 3\n  colour: red\n  port: http\n  note: null\n",
        "apps/base/pvc.yaml":
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [\"${ACCESS_MODE}\"]\n  resources: {requests: {storage: \"${STORAGE:=1Gi}\"}}\n",
        "apps/prod/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\n",
        "tenants/team-a.yaml": fluxKustomization("team-a", `  path: ./apps/team-a\n${bucket}`),
        // An empty kustomization.yaml at a Flux path: kustomize refuses it, Flux builds it (as nothing).
        "apps/team-a/kustomization.yaml": "",
        "addons/prod/kustomization.yaml": "resources:\n  - provider.yaml\n",
        "addons/prod/provider.yaml":
            "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSetInputProvider\nmetadata:\n  name: team-a\n  namespace: flux-system\nspec:\n  type: Static\n  defaultValues:\n    tenant: team-a\n",
        // What Flux never applies: CI workflows, tool configs.
        ".github/workflows/ci.yaml": "on: [push]\njobs:\n  test: {runs-on: ubuntu-latest, steps: [{run: make}]}\n",
        "helmfile.yaml": "releases:\n  - name: cilium\n    chart: cilium/cilium\n    values: [{{ .Values.x }}]\n",
    };
}
