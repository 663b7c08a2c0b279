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

/** The repository part of GitHub's default `sub`, in each form the trust accepts (immutable first). */
export function githubSubjectRepositories({ repository, ids, subjects = "both" }: Pick<GithubTrust, "repository" | "ids" | "subjects">): string[] {
    const byName = `repo:${repository}`;
    if (subjects === "name") return [byName];
    if (ids === undefined) throw new Error(`GitHub's immutable subjects name the ids of ${repository} and its owner: give ids, or trust subjects by name only`);
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
