import type { InfraConfig } from "../../stacks/config/infra.ts";
import { readStackFile } from "../render/stackFile.ts";

/**
 * Whether the credentials a cloud's Pulumi provider will use can be found: the AWS SDK's default chain, Google's
 * application default credentials. Each answers a problem, or undefined when they resolve.
 */
export interface CloudProbes {
    aws(): Promise<string | undefined>;
    gcp(): Promise<string | undefined>;
}

/**
 * The cloud credentials the infra stack's providers need and cannot find, one message each, before anything runs:
 * `CIVO_TOKEN` (or `civo:token` in the stack file) for a Civo cluster, the AWS chain for an S3 bucket or an EKS
 * cluster, ADC for GCS or GKE.
 * The flux stacks need none: they reach the cluster with the kubeconfig the infra stack exports.
 */
export async function credentialProblems(
    root: string,
    infra: string,
    config: InfraConfig,
    probes: CloudProbes,
    env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
    const problems: string[] = [];
    if (config.cluster.kind === "civo" && !env.CIVO_TOKEN && readStackFile(root, infra).config["civo:token"] === undefined) {
        problems.push(`${infra} creates a Civo cluster: set CIVO_TOKEN (or pulumi config set --secret civo:token --stack ${infra})`);
    }
    // What each cloud's provider will create, so that one message per cloud names all of it.
    const needs: Record<"aws" | "gcp", string[]> = { aws: [], gcp: [] };
    if (config.cluster.kind === "eks") needs.aws.push("an EKS cluster");
    if (config.cluster.kind === "gke") needs.gcp.push("a GKE cluster");
    const { provider } = config.storage;
    if (provider === "aws") needs.aws.push("an S3 bucket");
    if (provider === "gcp") needs.gcp.push("a GCS bucket");
    for (const cloud of ["aws", "gcp"] as const) {
        if (needs[cloud].length === 0) continue;
        const problem = await probes[cloud]();
        if (problem) problems.push(`${infra} creates ${needs[cloud].join(" and ")}: ${problem}`);
    }
    return problems;
}

/** The real probes: each SDK's own chain (which may ask the cloud's instance metadata service, as the provider would). */
export const sdkProbes: CloudProbes = {
    async aws() {
        const { S3Client } = await import("@aws-sdk/client-s3");
        const client = new S3Client({});
        try {
            await client.config.credentials();
            return undefined;
        } catch (error) {
            return `no AWS credentials (${(error as Error).message.split("\n")[0]}): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login`;
        } finally {
            client.destroy();
        }
    },
    async gcp() {
        const { Storage } = await import("@google-cloud/storage");
        try {
            await new Storage().authClient.getClient();
            return undefined;
        } catch (error) {
            return `no Google application default credentials (${(error as Error).message.split("\n")[0]}): run gcloud auth application-default login`;
        }
    },
};
