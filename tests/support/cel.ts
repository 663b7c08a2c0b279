import { run } from "@bufbuild/cel";

/**
 * CEL, as the Kubernetes API server evaluates a CRD's x-kubernetes-validations and Google's STS evaluates a Workload
 * Identity Federation provider's attribute mapping and condition: @bufbuild/cel, tested against cel-spec's conformance suite.
 */
export function evaluate(expression: string, bindings: Record<string, unknown>): unknown {
    return run(expression, bindings as never);
}

interface CrdValidation {
    rule: string;
    message: string;
}

/** The messages of the rules a spec breaks, as the API server would refuse it (after applying the CRD's defaults). */
export function brokenRules(rules: { defaults: Record<string, unknown>; validations: CrdValidation[] }, spec: Record<string, unknown>): string[] {
    const self = { ...rules.defaults, ...spec };
    return rules.validations.filter(({ rule }) => evaluate(rule, { self }) !== true).map(({ message }) => message);
}
