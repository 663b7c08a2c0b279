// The schema packages, in a module of their own: the validation cache hashes their versions into its key without
// loading the validator (ajv, CEL and the models), which a push whose tree passed before never needs.

/**
 * The model packages, tried in this order. Each operator's package is imported only for an apiVersion/kind a tree
 * uses (the import of `<package>/<apiVersion>/<kind>` fails fast for the packages that do not export it).
 */
export const MODEL_PACKAGES = [
    "kubernetes-models",
    "@kubernetes-models/flux-cd",
    "@kubernetes-models/cert-manager",
    "@kubernetes-models/gateway-api",
    "@kubernetes-models/prometheus-operator",
    "@kubernetes-models/external-secrets",
    "@kubernetes-models/traefik",
    "@kubernetes-models/sealed-secrets",
    "@kubernetes-models/keda",
    "@kubernetes-models/istio",
    "@kubernetes-models/argo-rollouts",
    "@kubernetes-models/kyverno",
    "@kubernetes-models/grafana-operator",
    "@kubernetes-models/cilium",
];
