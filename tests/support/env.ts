/**
 * Sets these environment variables (undefined: unsets one) for what a test runs in-process, and returns what puts back
 * the values they had: call it in a `finally`.
 */
export function setEnv(vars: Record<string, string | undefined>): () => void {
    const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
    const apply = (values: Record<string, string | undefined>) => {
        for (const [name, value] of Object.entries(values)) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    };
    apply(vars);
    return () => apply(saved);
}
