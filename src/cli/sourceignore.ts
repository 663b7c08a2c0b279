import { newMatcher, parsePattern } from "../flux/gitignore.ts";

/**
 * Lines of a `.sourceignore` or `spec.ignore` as fluxcd/pkg sourceignore.ReadPatterns keeps them:
 * lines starting with '#' and blank lines are dropped, nothing else is trimmed (a bufio line scanner
 * also drops a trailing '\r').
 */
export function readPatterns(text: string): string[] {
    return text
        .split("\n")
        .map((line) => line.replace(/\r$/, ""))
        .filter((line) => !line.startsWith("#") && !GO_BLANK.test(line));
}

/** A line that Go's strings.TrimSpace empties (unicode.IsSpace: not quite JavaScript's trim(), which also drops U+FEFF but keeps U+0085). */
const GO_BLANK = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/**
 * Whether source-controller skips a key: its gitignore matcher (fluxcd/pkg sourceignore) on the FULL key
 * split at '/', as a file. See src/flux/gitignore.ts for how that differs from git and from the `ignore` package.
 */
export function ignoreMatcher(patterns: string[]): (key: string) => boolean {
    const matches = newMatcher(patterns.map((line) => parsePattern(line)));
    return (key) => matches(key.split("/"), false);
}
