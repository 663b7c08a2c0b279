import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/**
 * Plausible, deterministic provider outputs for the resource types this project registers, so that an offline
 * run computes the same ARNs, emails and names from run to run. Nothing here talks to a cloud.
 */

const hash = (...parts: string[]) => createHash("sha256").update(parts.join("\0")).digest("hex");

/** Pulumi's auto-naming: the resource name plus a suffix (random in a real run, derived from the name here). */
export const autoName = (name: string) => `${name}-${hash(name).slice(0, 7)}`;

export const OFFLINE_ACCOUNT_ID = "123456789012";
export const OFFLINE_PROJECT_NUMBER = "123456789";

/**
 * Offline answers to the data source calls (invokes) the program makes: the default VPC and its subnets, which an
 * EKS cluster without `eksSubnetIds` runs in.
 */
export const fakeCalls: Record<string, (inputs: State) => State> = {
    "aws:ec2/getVpc:getVpc": () => ({ id: "vpc-0ff1ine0default0", cidrBlock: "172.31.0.0/16", default: true }),
    "aws:ec2/getSubnets:getSubnets": () => ({ ids: ["subnet-0ff1ine0000000a", "subnet-0ff1ine0000000b", "subnet-0ff1ine0000000c"] }),
};

export interface FakeContext {
    /** The `region` of the explicit aws provider the resource was registered with, if any. */
    awsRegion?: string;
}

type State = Record<string, any>;

const fakes: Record<string, (name: string, inputs: State, context: FakeContext) => State> = {
    "aws:s3/bucket:Bucket": (name, inputs, { awsRegion }) => {
        const bucket = inputs.bucket ?? autoName(name);
        return { bucket, arn: `arn:aws:s3:::${bucket}`, region: inputs.region ?? awsRegion ?? "us-east-1" };
    },
    "aws:iam/user:User": (name, inputs) => {
        const userName = inputs.name ?? autoName(name);
        return { name: userName, arn: `arn:aws:iam::${OFFLINE_ACCOUNT_ID}:user${inputs.path ?? "/"}${userName}` };
    },
    "aws:iam/role:Role": (name, inputs) => {
        const roleName = inputs.name ?? autoName(name);
        return { name: roleName, arn: `arn:aws:iam::${OFFLINE_ACCOUNT_ID}:role${inputs.path ?? "/"}${roleName}` };
    },
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (_name, inputs) => ({
        arn: `arn:aws:iam::${OFFLINE_ACCOUNT_ID}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`,
    }),
    "aws:eks/cluster:Cluster": (name, _inputs, { awsRegion }) => {
        const clusterName = autoName(name);
        const region = awsRegion ?? "us-east-1";
        const id = hash("eks", name).slice(0, 32).toUpperCase();
        return {
            name: clusterName,
            arn: `arn:aws:eks:${region}:${OFFLINE_ACCOUNT_ID}:cluster/${clusterName}`,
            endpoint: `https://${id}.gr7.${region}.eks.amazonaws.com`,
            certificateAuthority: { data: Buffer.from("offline placeholder CA").toString("base64") },
            identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${id}` }] }],
        };
    },
    "gcp:container/cluster:Cluster": (name, inputs) => ({
        name: inputs.name ?? autoName(name),
        endpoint: `34.${parseInt(hash("gke", name).slice(0, 2), 16)}.0.1`,
        masterAuth: { clusterCaCertificate: Buffer.from("offline placeholder CA").toString("base64") },
    }),
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": (_name, inputs) => ({
        name: `projects/${OFFLINE_PROJECT_NUMBER}/locations/global/workloadIdentityPools/${inputs.workloadIdentityPoolId}`,
    }),
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": (_name, inputs) => ({
        name: `projects/${OFFLINE_PROJECT_NUMBER}/locations/global/workloadIdentityPools/${inputs.workloadIdentityPoolId}/providers/${inputs.workloadIdentityPoolProviderId}`,
    }),
    "aws:iam/accessKey:AccessKey": (name) => ({
        secret: `offline-secret-${hash("secret", name).slice(0, 25)}`,
    }),
    "gcp:storage/bucket:Bucket": (name, inputs) => {
        const bucketName = inputs.name ?? autoName(name).toLowerCase();
        return { name: bucketName, url: `gs://${bucketName}`, selfLink: `https://www.googleapis.com/storage/v1/b/${bucketName}` };
    },
    "gcp:serviceaccount/account:Account": (_name, inputs) => {
        const email = `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com`;
        return { email, name: `projects/${inputs.project}/serviceAccounts/${email}`, member: `serviceAccount:${email}` };
    },
    "gcp:projects/iAMCustomRole:IAMCustomRole": (_name, inputs) => ({ name: `projects/${inputs.project}/roles/${inputs.roleId}` }),
    "gcp:serviceaccount/key:Key": (name, inputs) => {
        const email = String(inputs.serviceAccountId).split("/").pop();
        const keyFile = {
            type: "service_account",
            project_id: email?.split("@")[1]?.split(".")[0],
            private_key_id: hash("key", name).slice(0, 40),
            private_key: "-----BEGIN PRIVATE KEY-----\nOFFLINE-PLACEHOLDER\n-----END PRIVATE KEY-----\n",
            client_email: email,
        };
        return { privateKey: Buffer.from(JSON.stringify(keyFile)).toString("base64") };
    },
    "civo:index/kubernetesCluster:KubernetesCluster": (name, inputs) => {
        const clusterName = inputs.name ?? autoName(name);
        const apiEndpoint = `https://${hash("endpoint", name).slice(0, 8)}.k8s.civo.com:6443`;
        return {
            name: clusterName,
            apiEndpoint,
            kubernetesVersion: inputs.kubernetesVersion ?? "1.33.1-k3s1",
            kubeconfig: [
                "apiVersion: v1",
                "kind: Config",
                `clusters: [{name: ${clusterName}, cluster: {server: "${apiEndpoint}"}}]`,
                `users: [{name: ${clusterName}, user: {token: offline-placeholder}}]`,
                `contexts: [{name: ${clusterName}, context: {cluster: ${clusterName}, user: ${clusterName}}}]`,
                `current-context: ${clusterName}`,
                "",
            ].join("\n"),
        };
    },
    "kubernetes:helm.sh/v3:Release": (_name, inputs) => ({
        status: { name: inputs.name, namespace: inputs.namespace, chart: inputs.chart, version: inputs.version, status: "deployed" },
    }),
};

/** The id a resource gets offline: what the provider would use (a bucket's name, an access key id), else `<name>-id`. */
export function fakeId(type: string, name: string, state: State): string {
    switch (type) {
        case "aws:iam/accessKey:AccessKey":
            return `AKIA${hash("id", name).slice(0, 16).toUpperCase()}`;
        case "aws:s3/bucket:Bucket":
            return state.bucket;
        case "gcp:storage/bucket:Bucket":
            return state.name;
        default:
            return `${name}-id`;
    }
}

/** The state a provider would return: the inputs, Kubernetes names filled in, plus the type's computed outputs. */
export function fakeState(args: pulumi.runtime.MockResourceArgs, context: FakeContext): State {
    const state: State = { ...args.inputs };
    if (args.type.startsWith("kubernetes:") && state.metadata && state.metadata.name === undefined) {
        state.metadata = { ...state.metadata, name: autoName(args.name) };
    }
    return { ...state, ...(fakes[args.type]?.(args.name, args.inputs, context) ?? {}) };
}
