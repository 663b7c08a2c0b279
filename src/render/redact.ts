export const REDACTED = "<redacted>";

/** Replaces every leaf under a secret value, keeping map keys visible (which Secret keys exist is useful). */
function redactAll(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactAll);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactAll(inner)]));
    }
    return REDACTED;
}

/** A copy of `inputs` with the values at the given top-level or dotted paths redacted. */
export function redactPaths(inputs: Record<string, any>, paths: string[]): Record<string, any> {
    const copy = structuredClone(inputs);
    for (const dotted of paths) {
        const keys = dotted.split(".");
        const last = keys.pop()!;
        const holder = keys.reduce<any>((node, key) => node?.[key], copy);
        if (holder && last in holder) holder[last] = redactAll(holder[last]);
    }
    return copy;
}
