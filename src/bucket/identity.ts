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

/** The service account the whole bucket's reader trusts where source-controller must request its tokens itself (object-level). */
export const WHOLE_BUCKET_SERVICE_ACCOUNT = "flux-bucket";

/**
 * The service account a reader identity trusts. For the whole bucket: source-controller's own (controller-level
 * workload identity), where the cluster hands the controller its cloud credentials (EKS's pod identity webhook, GKE's
 * metadata server); elsewhere (`objectLevel`) `flux-bucket`, which the Bucket names in `spec.serviceAccountName`. For
 * an environment: one service account per environment that its Bucket names (Flux's object-level workload identity),
 * so one cluster can sync several environments with each Bucket holding only its environment's identity.
 */
export function readerServiceAccount(namespace: string, environment?: string, objectLevel = false): ServiceAccountRef {
    if (environment !== undefined) return { namespace, name: `flux-bucket-${environment}` };
    return { namespace, name: objectLevel ? WHOLE_BUCKET_SERVICE_ACCOUNT : SOURCE_CONTROLLER };
}

/**
 * Whether an IAM OIDC provider's issuer (`oidc.eks.<region>.amazonaws.com/id/<id>`) is an EKS cluster's: only there
 * does the pod identity webhook give source-controller's pod the role its service account's annotation names
 * (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_REGION, which fluxcd/pkg auth/aws/provider.go:61-73 at
 * auth/v0.38.5 reads for the controller's own token). Any other issuer (kind, k3d, a self-managed cluster whose
 * issuer is published) needs the object-level path, where source-controller exchanges the token itself.
 */
export function isEksIssuer(issuer: string): boolean {
    return /^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[0-9A-Za-z]+$/.test(issuer);
}

/**
 * The service account annotation that tells source-controller, outside GKE, which Workload Identity Federation
 * provider to exchange its Kubernetes token at (`projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`):
 * fluxcd/pkg auth/gcp/options.go:47-58 and provider.go:109-122 at auth/v0.38.5. Without it Flux asks GKE's metadata server.
 */
export const GCP_WORKLOAD_IDENTITY_PROVIDER_ANNOTATION = "gcp.auth.fluxcd.io/workload-identity-provider";

/** A GKE workload pool, `<project>.svc.id.goog`. */
export const GKE_WORKLOAD_POOL = /^[a-z][a-z0-9-]{4,28}[a-z0-9]\.svc\.id\.goog$/;

/** A Workload Identity Federation provider's full name, as fluxcd/pkg auth/gcp/options.go:43 accepts it. */
export const WORKLOAD_IDENTITY_PROVIDER = /^projects\/(\d{1,30})\/locations\/global\/workloadIdentityPools\/([^/]{1,100})\/providers\/([^/]{1,100})$/;

/**
 * Who may impersonate a GCP reader: in a GKE workload pool, `serviceAccount:<pool>[<namespace>/<name>]`; through a
 * Workload Identity Federation provider that trusts another cluster's issuer (mapping `google.subject` to
 * `assertion.sub`, as Google's "Workload Identity Federation with Kubernetes" sets it up), the principal of the
 * service account token's subject in the provider's pool.
 */
export function gcpKubernetesMember(workloadPool: string, account: ServiceAccountRef): string {
    const provider = WORKLOAD_IDENTITY_PROVIDER.exec(workloadPool);
    if (!provider) return `serviceAccount:${workloadPool}[${serviceAccountId(account)}]`;
    return `principal://iam.googleapis.com/projects/${provider[1]}/locations/global/workloadIdentityPools/${provider[2]}/subject/${kubernetesSubject(account)}`;
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

/**
 * Which `sub` claims of GitHub's a trust accepts. GitHub's default subject names the repository by name
 * (`repo:OWNER/REPO:…`) or, with immutable subject claims, by name and immutable id (`repo:OWNER@OWNER_ID/REPO@REPO_ID:…`):
 * the default for repositories created, renamed or transferred from 2026-07-15 on, and for those whose owner opted in
 * (GitHub's OpenID Connect reference, "Immutable subject claims"). `both` accepts either, for a repository that has not
 * switched yet or is switching.
 */
export type GithubSubjectFormat = "immutable" | "name" | "both";
export const GITHUB_SUBJECT_FORMATS: readonly GithubSubjectFormat[] = ["both", "immutable", "name"];

/** Which GitHub Actions runs CI identities trust. */
export interface GithubTrust {
    /** `owner/repo`. */
    repository: string;
    /**
     * The repository's and its owner's immutable numeric ids (`gh api repos/OWNER/REPO --jq .id` and `--jq .owner.id`),
     * as the token's `repository_id` and `repository_owner_id` claims and immutable subjects carry them. A repository
     * of the same name under another account (after a transfer or a deletion) has other ids. Required unless
     * `subjects` is `name`.
     */
    ids?: { repository: string; owner: string };
    /** Which subject forms are trusted. Default: `both`. */
    subjects?: GithubSubjectFormat;
    /** The branch the writer pushes from (a push to it). Ignored when `environment` is set. */
    branch: string;
    /** A GitHub deployment environment (its protection rules decide who deploys): the writer trusts jobs of it instead of the branch. */
    environment?: string;
}

/** Why a trust cannot be written: immutable subjects without the ids they carry. */
export function githubTrustProblem({ ids, subjects = "both" }: Pick<GithubTrust, "ids" | "subjects">): string | undefined {
    if (subjects === "name" || ids !== undefined) return undefined;
    return (
        `is missing: subjects "${subjects}" include GitHub's immutable ones (repo:OWNER@OWNER_ID/REPO@REPO_ID:…), which need the ` +
        `repository's and its owner's ids (gh api repos/OWNER/REPO --jq '.id, .owner.id'); or trust subjects by "name" only`
    );
}

/** The repository part of GitHub's default `sub`, in each form the trust accepts (immutable first). */
export function githubSubjectRepositories({ repository, ids, subjects = "both" }: Pick<GithubTrust, "repository" | "ids" | "subjects">): string[] {
    const byName = `repo:${repository}`;
    if (subjects === "name") return [byName];
    if (ids === undefined) throw new Error(`ids ${githubTrustProblem({ ids, subjects })}`);
    const [owner, name] = repository.split("/");
    const immutable = `repo:${owner}@${ids.owner}/${name}@${ids.repository}`;
    return subjects === "immutable" ? [immutable] : [immutable, byName];
}

/**
 * The `sub` claims GitHub puts in a job's token (GitHub's "Example subject claims", in each form the trust accepts):
 * the writer trusts pushes to the branch (or jobs of the environment), the reader trusts pull requests, which
 * `bucketops diff` runs in.
 */
export function githubSubjects(trust: GithubTrust): { writer: string[]; reader: string[] } {
    const { branch, environment } = trust;
    const repositories = githubSubjectRepositories(trust);
    return {
        writer: repositories.map((repository) => (environment === undefined ? `${repository}:ref:refs/heads/${branch}` : `${repository}:environment:${environment}`)),
        reader: repositories.map((repository) => `${repository}:pull_request`),
    };
}
