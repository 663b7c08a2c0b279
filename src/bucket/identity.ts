/**
 * Keyless access, Pulumi-free: who the infra stack's identities trust, so that the infra stack (which writes the
 * trust), the flux stack (which creates the service accounts Flux authenticates as) and the tests derive the same
 * names from one place.
 */

/** How Flux's reader authenticates: a cloud identity bound to a Kubernetes service account, or a key in a Secret. */
export type Auth = "workload-identity" | "keys";
export const AUTH_MODES: readonly Auth[] = ["workload-identity", "keys"];

/** A Kubernetes service account. */
export interface ServiceAccountRef {
    namespace: string;
    name: string;
}

/** The service account of Flux's source-controller, which the flux2 chart creates. */
export const SOURCE_CONTROLLER = "source-controller";

/**
 * The service account a reader identity trusts. For the whole bucket: source-controller's own (controller-level
 * workload identity). For an environment: one service account per environment that its Bucket names in
 * `spec.serviceAccountName` (Flux's object-level workload identity), so one cluster can sync several environments
 * with each Bucket holding only its environment's identity.
 */
export function readerServiceAccount(namespace: string, environment?: string): ServiceAccountRef {
    return { namespace, name: environment === undefined ? SOURCE_CONTROLLER : `flux-bucket-${environment}` };
}

/** A service account as the infra stack's outputs name it: `<namespace>/<name>`. */
export const serviceAccountId = ({ namespace, name }: ServiceAccountRef) => `${namespace}/${name}`;

export function parseServiceAccountId(id: string): ServiceAccountRef {
    const [namespace, name = ""] = id.split("/", 2);
    return { namespace, name };
}

/** The `sub` claim of a Kubernetes service account token. */
export const kubernetesSubject = ({ namespace, name }: ServiceAccountRef) => `system:serviceaccount:${namespace}:${name}`;

/** The audience source-controller asks for and the EKS pod identity webhook sets (IRSA), and GitHub's for AWS. */
export const AWS_STS_AUDIENCE = "sts.amazonaws.com";

/** The source-controller feature gate that lets a Bucket authenticate as its `spec.serviceAccountName`. */
export const OBJECT_LEVEL_WORKLOAD_IDENTITY = "ObjectLevelWorkloadIdentity";

/** GitHub Actions' OIDC issuer (host, as IAM condition keys and the WIF issuer URL take it). */
export const GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com";

/** Which GitHub Actions runs CI identities trust. */
export interface GithubTrust {
    /** `owner/repo`. */
    repository: string;
    /** The branch the writer pushes from (a push to it). Ignored when `environment` is set. */
    branch: string;
    /** A GitHub deployment environment (its protection rules decide who deploys): the writer trusts jobs of it instead of the branch. */
    environment?: string;
}

/**
 * The `sub` claims GitHub puts in a job's token (GitHub's "Example subject claims"): the writer trusts pushes to
 * the branch (or jobs of the environment), the reader trusts pull requests, which `bucketops diff` runs in.
 */
export function githubSubjects({ repository, branch, environment }: GithubTrust): { writer: string; reader: string } {
    return {
        writer: environment === undefined ? `repo:${repository}:ref:refs/heads/${branch}` : `repo:${repository}:environment:${environment}`,
        reader: `repo:${repository}:pull_request`,
    };
}
