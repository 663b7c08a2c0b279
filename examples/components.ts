import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { aws as bucketops, flux } from "../components/index.ts"; // this repository's components/

// An EKS cluster you already run: its kubeconfig, and the IAM OIDC provider of its service account issuer.
const config = new pulumi.Config();
const kubeconfig = config.requireSecret("kubeconfig");
const oidcProviderArn = config.require("oidcProviderArn");

const provider = new aws.Provider("eu", { region: "eu-west-1" });
// Flux's reader is an IAM role that only flux-system/source-controller on that cluster can assume (IRSA): no user, no key.
const store = new bucketops.FluxBucket(
    "manifests",
    { noncurrentVersionDays: 30, workloadIdentity: { oidcProviderArn, namespace: "flux-system" } },
    { providers: [provider] },
);
const reader = store.reader as bucketops.BucketRole;

const cluster = new k8s.Provider("cluster", { kubeconfig });
const install = new flux.FluxInstall(
    "flux",
    {
        namespace: "flux-system",
        chartVersion: "2.18.3",
        workloadIdentity: { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": reader.roleArn } },
    },
    { providers: [cluster] },
);
// No credentials: the Bucket has provider aws and no Secret, and source-controller reads as the role.
new flux.BucketSync(
    "flux-bucket",
    {
        namespace: install.namespaceName,
        bucket: { provider: "aws", bucketName: store.bucketName, endpoint: store.endpoint, region: store.region, interval: "1m" },
        kustomization: { path: "./clusters/dev", prune: true, interval: "10m" },
    },
    { providers: [cluster], dependsOn: [install] },
);
