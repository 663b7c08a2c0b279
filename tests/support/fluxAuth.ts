/**
 * How source-controller v1.8.5 gets the cloud credentials it reads a Bucket with, as a stand-in for the real
 * controller on a modelled cluster: which token it asks for (its own pod's, or a service account's through the
 * TokenRequest API) and what it presents to the cloud's STS, or the error it reports in the Bucket's FetchFailed
 * condition. Rules, with their upstream places:
 *
 * - fluxcd/source-controller v1.8.5 internal/controller/bucket_controller.go:436-445: a Bucket with a provider other
 *   than generic and `spec.serviceAccountName` needs the ObjectLevelWorkloadIdentity feature gate; 863-888: the
 *   service account namespace is the Bucket's, `spec.region` becomes the STS region.
 * - fluxcd/pkg auth/v0.38.5 access_token.go:38-91: without a service account name, the controller's own credentials
 *   (Provider.NewControllerToken); with one, a token for it (audiences from Provider.GetAudiences) exchanged by
 *   Provider.NewTokenForServiceAccount.
 * - auth/aws/provider.go:53-92: the controller's own need AWS_REGION and the SDK's default chain (on EKS the pod
 *   identity webhook sets AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_REGION in pods whose service account has
 *   `eks.amazonaws.com/role-arn`); 94-97: audience sts.amazonaws.com; 108-165: a region is required, then
 *   AssumeRoleWithWebIdentity with the annotation's role; options.go:48-59: the role ARN pattern.
 * - auth/gcp/provider.go:53-70: the controller's own come from Application Default Credentials (GKE's metadata
 *   server); 73-91 and 103-144: the audience is `//iam.googleapis.com/<provider>` from the
 *   `gcp.auth.fluxcd.io/workload-identity-provider` annotation, else GKE's metadata (pool); impersonation of the
 *   `iam.gke.io/gcp-service-account` annotation's account; options.go:26-58: both annotations' patterns.
 */

/** What runs the cluster: EKS (its pod identity webhook), GKE (its metadata server, with the cluster's pool), or neither. */
export type ClusterKind = { kind: "eks"; region: string } | { kind: "gke"; workloadPool: string } | { kind: "other" };

export interface ServiceAccount {
    namespace: string;
    name: string;
    annotations: Record<string, string>;
}

/** What the flux stack put on the cluster that matters here. */
export interface FluxOnCluster {
    /** source-controller's own service account (the chart's, with its annotations) and its arguments. */
    controller: { serviceAccount: ServiceAccount; args: string[] };
    serviceAccounts: ServiceAccount[];
    /** Service accounts in the Bucket's namespace whose tokens source-controller may create (Role + RoleBinding). */
    tokenGrants: string[];
    bucket: { namespace: string; spec: { provider: string; region?: string; serviceAccountName?: string } };
}

/** A Kubernetes service account token as the API server issues it. */
export interface KubernetesToken {
    sub: string;
    aud: string;
}

export type TokenExchange =
    | { cloud: "aws"; roleArn: string; region: string; token: KubernetesToken | "controller" }
    | { cloud: "gcp"; audience: string; impersonate?: string; token: KubernetesToken | "controller" };

const ROLE_ARN = "eks.amazonaws.com/role-arn";
const GCP_SERVICE_ACCOUNT = "iam.gke.io/gcp-service-account";
const GCP_PROVIDER = "gcp.auth.fluxcd.io/workload-identity-provider";
const ROLE_ARN_PATTERN = /^arn:aws[\w-]*:iam::[0-9]{1,30}:role\/.{1,200}$/;
const EMAIL_PATTERN = /^[a-zA-Z0-9-]{1,100}@[a-zA-Z0-9-]{1,100}\.iam\.gserviceaccount\.com$/;
const PROVIDER_PATTERN = /^projects\/\d{1,30}\/locations\/global\/workloadIdentityPools\/[^/]{1,100}\/providers\/[^/]{1,100}$/;

/** The token exchange source-controller performs for the Bucket, or the error it reports. */
export function bucketCredentials(cluster: ClusterKind, flux: FluxOnCluster): TokenExchange | { error: string } {
    const { spec, namespace } = flux.bucket;
    const gate = flux.controller.args.includes("--feature-gates=ObjectLevelWorkloadIdentity=true");
    if (spec.provider !== "generic" && spec.serviceAccountName && !gate) {
        return { error: "to use spec.serviceAccountName for provider authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller" };
    }
    if (!spec.serviceAccountName) return controllerCredentials(cluster, flux.controller.serviceAccount, spec);

    const account = flux.serviceAccounts.find((candidate) => candidate.namespace === namespace && candidate.name === spec.serviceAccountName);
    if (!account) return { error: `failed to get service account '${namespace}/${spec.serviceAccountName}': not found` };
    const { annotations } = account;
    let audience: string;
    if (spec.provider === "aws") {
        audience = "sts.amazonaws.com";
    } else {
        const provider = annotations[GCP_PROVIDER];
        if (provider !== undefined && !PROVIDER_PATTERN.test(provider)) return { error: `invalid ${GCP_PROVIDER} annotation: '${provider}'` };
        if (provider === undefined && cluster.kind !== "gke") return { error: "failed to get provider audience: the GKE metadata server is not reachable" };
        audience = provider !== undefined ? `//iam.googleapis.com/${provider}` : cluster.kind === "gke" ? cluster.workloadPool : "";
    }
    if (!flux.tokenGrants.includes(account.name)) {
        return { error: `failed to create kubernetes token for service account '${namespace}/${account.name}': forbidden` };
    }
    const token = { sub: `system:serviceaccount:${namespace}:${account.name}`, aud: audience };
    if (spec.provider === "aws") {
        if (!spec.region) return { error: "an AWS region is required for authenticating with a service account. please configure one in the object spec" };
        const roleArn = annotations[ROLE_ARN] ?? "";
        if (!ROLE_ARN_PATTERN.test(roleArn)) return { error: `invalid ${ROLE_ARN} annotation: '${roleArn}'` };
        return { cloud: "aws", roleArn, region: spec.region, token };
    }
    const email = annotations[GCP_SERVICE_ACCOUNT];
    if (email !== undefined && !EMAIL_PATTERN.test(email)) return { error: `invalid ${GCP_SERVICE_ACCOUNT} annotation: '${email}'` };
    return { cloud: "gcp", audience, impersonate: email, token };
}

function controllerCredentials(cluster: ClusterKind, account: ServiceAccount, spec: FluxOnCluster["bucket"]["spec"]): TokenExchange | { error: string } {
    if (spec.provider === "aws") {
        // Only EKS's webhook turns the annotation into the pod's environment (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_REGION).
        const roleArn = cluster.kind === "eks" ? account.annotations[ROLE_ARN] : undefined;
        const region = spec.region ?? (roleArn && cluster.kind === "eks" ? cluster.region : undefined);
        if (!region) {
            return {
                error:
                    "AWS_REGION environment variable is not set in the Flux controller. if you have properly configured IAM Roles for Service Accounts (IRSA) " +
                    "or EKS Pod Identity, please delete/replace the controller pod so the EKS admission controllers can inject this environment variable, " +
                    "or set it manually if the cluster is not EKS",
            };
        }
        // Not the SDK's words: its default chain finds no web identity in the environment and no instance role.
        if (!roleArn) return { error: "no AWS credentials in source-controller's pod: the AWS SDK's default chain found none" };
        return { cloud: "aws", roleArn, region, token: "controller" };
    }
    if (cluster.kind !== "gke") return { error: "google: could not find default credentials" };
    return { cloud: "gcp", audience: cluster.workloadPool, impersonate: account.annotations[GCP_SERVICE_ACCOUNT], token: "controller" };
}
