/**
 * The gitignore matcher source-controller applies to bucket keys: fluxcd/pkg `sourceignore/gitignore`
 * (v0.17.0, used by source-controller v1.8.x; a copy of go-git v5.16.4 `plumbing/format/gitignore`),
 * ported line for line, with Go's `path/filepath.Match` underneath. It is not git's own matcher: it is
 * case-sensitive, `[!a]` is a class holding '!' (Go negates with `[^a]`), the LAST matching pattern
 * decides, and a `!pattern` re-includes a file even below an excluded directory. Proven on the upstream
 * test vectors in tests/flux/gitignore.test.ts.
 */

export type MatchResult = "no-match" | "exclude" | "include";

export interface Pattern {
    match(path: readonly string[], isDir: boolean): MatchResult;
}

const ZERO_TO_MANY_DIRS = "**";

/** gitignore.ParsePattern: one line of a `.sourceignore` (or `spec.ignore`), scoped to `domain` (path components). */
export function parsePattern(line: string, domain: readonly string[] = []): Pattern {
    let p = line;
    const inclusion = p.startsWith("!");
    if (inclusion) p = p.slice(1);
    if (!p.endsWith("\\ ")) p = p.replace(/ +$/, "");
    const dirOnly = p.endsWith("/");
    if (dirOnly) p = p.slice(0, -1);
    const isGlob = p.includes("/");
    const parts = p.split("/");
    const scope = [...domain];

    return {
        match(path, isDir) {
            if (path.length <= scope.length) return "no-match";
            if (scope.some((component, i) => path[i] !== component)) return "no-match";
            const rest = path.slice(scope.length);
            const matched = isGlob ? globMatch(parts, dirOnly, rest, isDir) : simpleNameMatch(parts[0], dirOnly, rest, isDir);
            if (!matched) return "no-match";
            return inclusion ? "include" : "exclude";
        },
    };
}

function simpleNameMatch(pattern: string, dirOnly: boolean, path: readonly string[], isDir: boolean): boolean {
    for (let i = 0; i < path.length; i++) {
        const { matched, bad } = filepathMatch(pattern, path[i]);
        if (bad) return false;
        if (!matched) continue;
        if (dirOnly && !isDir && i === path.length - 1) return false;
        return true;
    }
    return false;
}

function globMatch(patterns: readonly string[], dirOnly: boolean, components: readonly string[], isDir: boolean): boolean {
    let path = components;
    let matched = false;
    let canTraverse = false;
    for (let i = 0; i < patterns.length; i++) {
        const pattern = patterns[i];
        if (pattern === "") {
            canTraverse = false;
            continue;
        }
        if (pattern === ZERO_TO_MANY_DIRS) {
            if (i === patterns.length - 1) break;
            canTraverse = true;
            continue;
        }
        if (pattern.includes(ZERO_TO_MANY_DIRS)) return false;
        if (path.length === 0) return false;
        if (canTraverse) {
            canTraverse = false;
            while (path.length > 0) {
                const e = path[0];
                path = path.slice(1);
                const { matched: hit, bad } = filepathMatch(pattern, e);
                if (bad) return false;
                if (hit) {
                    matched = true;
                    break;
                } else if (path.length === 0) {
                    matched = false;
                }
            }
        } else {
            const { matched: hit, bad } = filepathMatch(pattern, path[0]);
            if (bad || !hit) return false;
            matched = true;
            path = path.slice(1);
        }
    }
    if (matched && dirOnly && !isDir && path.length === 0) matched = false;
    return matched;
}

/** gitignore.NewMatcher(...).Match: patterns in increasing priority; the last one that matches decides. */
export function newMatcher(patterns: readonly Pattern[]): (path: readonly string[], isDir: boolean) => boolean {
    return (path, isDir) => {
        for (let i = patterns.length - 1; i >= 0; i--) {
            const result = patterns[i].match(path, isDir);
            if (result !== "no-match") return result === "exclude";
        }
        return false;
    };
}

// Go's path/filepath.Match on Unix ('/' separator, '\\' escapes), over code points: Go walks UTF-8 bytes
// but decodes a rune wherever a pattern character stands for one, which is the same for valid UTF-8.

const SEPARATOR = "/";

class BadPattern extends Error {}

/** filepath.Match(pattern, name): `bad` is Go's ErrBadPattern (then `matched` is false). */
export function filepathMatch(pattern: string, name: string): { matched: boolean; bad: boolean } {
    try {
        return { matched: match([...pattern], [...name]), bad: false };
    } catch (error) {
        if (error instanceof BadPattern) return { matched: false, bad: true };
        throw error;
    }
}

function match(patternIn: string[], nameIn: string[]): boolean {
    let pattern = patternIn;
    let name = nameIn;
    outer: while (pattern.length > 0) {
        const { star, chunk, rest } = scanChunk(pattern);
        pattern = rest;
        if (star && chunk.length === 0) return !name.includes(SEPARATOR);
        const here = matchChunk(chunk, name);
        if (here.ok && (here.rest.length === 0 || pattern.length > 0)) {
            name = here.rest;
            continue;
        }
        if (star) {
            for (let i = 0; i < name.length && name[i] !== SEPARATOR; i++) {
                const skipped = matchChunk(chunk, name.slice(i + 1));
                if (skipped.ok) {
                    if (pattern.length === 0 && skipped.rest.length > 0) continue;
                    name = skipped.rest;
                    continue outer;
                }
            }
        }
        // Before returning false, Go checks that the rest of the pattern is well-formed.
        while (pattern.length > 0) {
            const next = scanChunk(pattern);
            pattern = next.rest;
            matchChunk(next.chunk, []);
        }
        return false;
    }
    return name.length === 0;
}

function scanChunk(patternIn: string[]): { star: boolean; chunk: string[]; rest: string[] } {
    let pattern = patternIn;
    let star = false;
    while (pattern.length > 0 && pattern[0] === "*") {
        pattern = pattern.slice(1);
        star = true;
    }
    let inRange = false;
    let i = 0;
    scan: for (; i < pattern.length; i++) {
        switch (pattern[i]) {
            case "\\":
                if (i + 1 < pattern.length) i++;
                break;
            case "[":
                inRange = true;
                break;
            case "]":
                inRange = false;
                break;
            case "*":
                if (!inRange) break scan;
                break;
        }
    }
    return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

/** Matches one chunk at the start of `s`; throws BadPattern (also after a mismatch, as Go keeps checking). */
function matchChunk(chunkIn: string[], sIn: string[]): { rest: string[]; ok: boolean } {
    let chunk = chunkIn;
    let s = sIn;
    let failed = false;
    while (chunk.length > 0) {
        if (!failed && s.length === 0) failed = true;
        switch (chunk[0]) {
            case "[": {
                let r = "";
                if (!failed) {
                    r = s[0];
                    s = s.slice(1);
                }
                chunk = chunk.slice(1);
                let negated = false;
                if (chunk.length > 0 && chunk[0] === "^") {
                    negated = true;
                    chunk = chunk.slice(1);
                }
                let matched = false;
                let ranges = 0;
                for (;;) {
                    if (chunk.length > 0 && chunk[0] === "]" && ranges > 0) {
                        chunk = chunk.slice(1);
                        break;
                    }
                    const low = getEsc(chunk);
                    chunk = low.rest;
                    let hi = low.rune;
                    if (chunk[0] === "-") {
                        const high = getEsc(chunk.slice(1));
                        chunk = high.rest;
                        hi = high.rune;
                    }
                    const code = r.codePointAt(0);
                    if (!failed && code !== undefined && low.rune.codePointAt(0)! <= code && code <= hi.codePointAt(0)!) matched = true;
                    ranges++;
                }
                if (matched === negated) failed = true;
                break;
            }
            case "?":
                if (!failed) {
                    if (s[0] === SEPARATOR) failed = true;
                    s = s.slice(1);
                }
                chunk = chunk.slice(1);
                break;
            default:
                // A '\\' escapes the character after it, which is then a literal.
                if (chunk[0] === "\\") {
                    chunk = chunk.slice(1);
                    if (chunk.length === 0) throw new BadPattern();
                }
                if (!failed) {
                    if (chunk[0] !== s[0]) failed = true;
                    s = s.slice(1);
                }
                chunk = chunk.slice(1);
        }
    }
    return failed ? { rest: [], ok: false } : { rest: s, ok: true };
}

function getEsc(chunkIn: string[]): { rune: string; rest: string[] } {
    let chunk = chunkIn;
    if (chunk.length === 0 || chunk[0] === "-" || chunk[0] === "]") throw new BadPattern();
    if (chunk[0] === "\\") {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPattern();
    }
    const rune = chunk[0];
    const rest = chunk.slice(1);
    if (rest.length === 0) throw new BadPattern();
    return { rune, rest };
}
