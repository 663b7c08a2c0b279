import { UserError } from "../errors.ts";

/** One thing wrong with a manifest: where it is (file, object, field) and what is wrong. */
export interface Problem {
    file: string;
    /** `Kind/name` of the object, `Kustomization` for a kustomization.yaml, or empty when no object could be read. */
    object: string;
    /** Dotted path inside the object (`spec.chart.spec.sourceRef`), or empty when the problem is not about one field. */
    field: string;
    message: string;
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

export function throwIfAny(problems: Problem[]): void {
    if (problems.length > 0) throw new ManifestValidationError(problems);
}

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
