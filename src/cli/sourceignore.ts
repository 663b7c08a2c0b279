import ignore, { type Ignore } from "ignore";

/** Name of the ignore file source-controller reads from the bucket root (and only from there). */
export const SOURCEIGNORE = ".sourceignore";

/**
 * Lines of a `.sourceignore` or `spec.ignore` as fluxcd/pkg sourceignore.ReadPatterns keeps them:
 * lines starting with '#' and blank lines are dropped, nothing else is trimmed (a bufio line scanner
 * also drops a trailing '\r').
 */
export function readPatterns(text: string): string[] {
    return text
        .split("\n")
        .map((line) => line.replace(/\r$/, ""))
        .filter((line) => !line.startsWith("#") && line.trim().length > 0);
}

interface Rule {
    include: boolean;
    pattern: Ignore;
}

/**
 * A key matcher with the semantics of Flux's gitignore matcher (a copy of go-git's): the LAST
 * pattern that matches decides, and a `!pattern` can re-include a file below an excluded directory
 * (plain git could not). Each single pattern is matched by the `ignore` package, whose per-pattern
 * gitignore semantics (anchoring, `**`, trailing `/` for directories, a matching parent directory
 * matching everything below it) agree with go-git's for the usual cases.
 */
export function ignoreMatcher(patterns: string[]): (key: string) => boolean {
    const rules: Rule[] = patterns.map((line) => {
        const include = line.startsWith("!");
        return { include, pattern: ignore().add(include ? line.slice(1) : line) };
    });
    return (key) => {
        for (let i = rules.length - 1; i >= 0; i--) {
            if (matches(rules[i].pattern, key)) return !rules[i].include;
        }
        return false;
    };
}

function matches(pattern: Ignore, key: string): boolean {
    try {
        return pattern.ignores(key);
    } catch {
        // `ignore` refuses keys that are not relative paths (e.g. a leading '/'); no pattern of ours names them.
        return false;
    }
}
