import { UserError } from "../errors.ts";

/** One thing wrong with a manifest: where it is (file, object, field) and what is wrong. */
export interface Problem {
    file: string;
    /** `Kind/name` of the object, `Kustomization` for a kustomization.yaml, or empty when no object could be read. */
    object: string;
    /** Dotted path inside the object (`spec.chart.spec.sourceRef`), or empty when the problem is not about one field. */
    field: string;
    message: string;
    /** A warning is reported but does not refuse the tree (an object no schema knows, a remote base not fetched). */
    severity?: "warning";
}

/** `file: Kind/name: field: message`, leaving out the parts a problem does not have. */
export function formatProblem(problem: Problem): string {
    return [problem.file, problem.object, problem.field, problem.message].filter((part) => part !== "").join(": ");
}

export class ManifestValidationError extends UserError {
    readonly problems: Problem[];

    constructor(problems: Problem[]) {
        const noun = problems.length === 1 ? "problem" : "problems";
        super(`${problems.length} manifest ${noun}:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
        this.problems = problems;
    }
}

/** Throws ManifestValidationError with the errors among the problems, if any; returns the warnings. */
export function throwIfAny(problems: Problem[]): Problem[] {
    const errors = problems.filter((problem) => problem.severity !== "warning");
    if (errors.length > 0) throw new ManifestValidationError(errors);
    return problems.filter((problem) => problem.severity === "warning");
}

/**
 * What stands for a value that is not known offline: a postBuild variable that substituteFrom supplies in the
 * cluster. A field whose value holds it matches any type and format (see checkObject).
 */
export const PLACEHOLDER = "bucketops-offline-value";

/** A SOPS-encrypted value (`ENC[AES256_GCM,data:…,type:str]`): Flux decrypts it in the cluster, so it satisfies any type. */
export const SOPS_VALUE = /^ENC\[[A-Z0-9_]+,data:.*\]$/s;

/** `Kind/name` for messages; tolerates objects that lack either. */
export function objectLabel(object: unknown): string {
    const record = isRecord(object) ? object : {};
    const metadata = isRecord(record.metadata) ? record.metadata : {};
    const kind = typeof record.kind === "string" && record.kind !== "" ? record.kind : "(no kind)";
    const name = typeof metadata.name === "string" && metadata.name !== "" ? metadata.name : "(no name)";
    return `${kind}/${name}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
