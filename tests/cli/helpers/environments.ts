import { configMap } from "../../support/trees.ts";
import { md5, sha256 } from "./cli.ts";

/**
 * One environment's tree as the flux stack expects it: the root Kustomization reads ./<prefix>clusters/<env>,
 * whose Flux Kustomization points at ./<prefix>apps/<env>; README.md is ignored by the root .sourceignore.
 */
export function environmentTree(env: string, prefix: string, tag: string): Record<string, string> {
    return {
        "README.md": `# ${env} ${tag}\n`,
        [`apps/${env}/kustomization.yaml`]: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - settings.yaml\n",
        [`apps/${env}/settings.yaml`]: configMap("settings", `${env}-${tag}`),
        [`clusters/${env}/apps.yaml`]: [
            "apiVersion: kustomize.toolkit.fluxcd.io/v1",
            "kind: Kustomization",
            "metadata:",
            "  name: apps",
            "  namespace: flux-system",
            "spec:",
            "  interval: 10m",
            "  sourceRef:",
            "    kind: Bucket",
            "    name: flux-bucket",
            `  path: ./${prefix}apps/${env}`,
            "  prune: true",
            "",
        ].join("\n"),
    };
}

/** Flux's revision of an environment, by hand: full keys (prefix kept), README.md left out by the root .sourceignore. */
export function environmentRevision(env: string, prefix: string, tree: Record<string, string>): string {
    return sha256(
        `${prefix}apps/${env}/kustomization.yaml ${md5(tree[`apps/${env}/kustomization.yaml`])}\n` +
            `${prefix}apps/${env}/settings.yaml ${md5(tree[`apps/${env}/settings.yaml`])}\n` +
            `${prefix}clusters/${env}/apps.yaml ${md5(tree[`clusters/${env}/apps.yaml`])}\n`,
    );
}

/**
 * A tree written once for every environment: each cluster's Flux Kustomization names its apps through
 * ${BUCKETOPS_PREFIX}, which the flux stack's root Kustomization sets to its Bucket's prefix (substitutePrefix).
 */
export function promotableTree(tag: string): Record<string, string> {
    return { ...environmentTree("staging", "${BUCKETOPS_PREFIX}", tag), ...environmentTree("prod", "${BUCKETOPS_PREFIX}", tag) };
}

