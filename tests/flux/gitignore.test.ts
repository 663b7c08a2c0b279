import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { ignoreMatcher, readPatterns } from "../../src/cli/sourceignore.ts";
import { type MatchResult, filepathMatch, newMatcher, parsePattern } from "../../src/flux/gitignore.ts";

// Every expectation here is upstream's, not ours: the test vectors of Go's filepath.Match and of fluxcd/pkg's
// gitignore package, transcribed as data, and cases whose answers came from running fluxcd/pkg's matcher.
const vectors = <T>(file: string): T => JSON.parse(readFileSync(path.join(import.meta.dirname, "vectors", file), "utf8"));

describe("filepathMatch: Go's path/filepath.Match test vectors", () => {
    const { vectors: cases } = vectors<{ vectors: { pattern: string; name: string; matched: boolean; bad: boolean }[] }>("filepathMatch.json");
    for (const { pattern, name, matched, bad } of cases) {
        it(`Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)}) = ${matched}${bad ? ", ErrBadPattern" : ""}`, () => {
            assert.deepEqual(filepathMatch(pattern, name), { matched, bad });
        });
    }
});

describe("parsePattern: fluxcd/pkg sourceignore/gitignore pattern_test.go", () => {
    type Vector = { test: string; pattern: string; domain: string[]; path: string[]; isDir: boolean; result: MatchResult };
    for (const { test, pattern, domain, path: components, isDir, result } of vectors<{ vectors: Vector[] }>("gitignorePattern.json").vectors) {
        it(test, () => assert.equal(parsePattern(pattern, domain).match(components, isDir), result));
    }
});

describe("newMatcher: fluxcd/pkg matcher_test.go and sourceignore_test.go", () => {
    it("TestMatcher_Match", () => {
        const match = newMatcher([parsePattern("**/middle/v[uo]l?ano"), parsePattern("!volcano")]);
        assert.equal(match(["head", "middle", "vulkano"], false), true);
        assert.equal(match(["head", "middle", "volcano"], false), false);
    });

    const readPatternCases = [
        { name: "simple", ignore: "ignore-dir/*\n!ignore-dir/include\n", domain: [], matches: ["ignore-dir/file.yaml"], mismatches: ["file.yaml", "ignore-dir/include"] },
        { name: "with comments", ignore: "ignore-dir/*\n# !ignore-dir/include", domain: [], matches: ["ignore-dir/file.yaml", "ignore-dir/include"], mismatches: [] },
        { name: "domain scoped", ignore: "ignore-dir/*", domain: ["domain", "scoped"], matches: ["domain/scoped/ignore-dir/file.yaml"], mismatches: ["ignore-dir/file.yaml"] },
    ];
    for (const { name, ignore, domain, matches, mismatches } of readPatternCases) {
        it(`TestReadPatterns/${name}`, () => {
            const match = newMatcher(readPatterns(ignore).map((line) => parsePattern(line, domain)));
            for (const key of matches) assert.equal(match(key.split("/"), false), true, key);
            for (const key of mismatches) assert.equal(match(key.split("/"), false), false, key);
        });
    }
});

describe("ignoreMatcher: what source-controller v1.8 skips, answered by fluxcd/pkg under Go", () => {
    type Case = { why?: string; ignore: string; ignored: string[]; kept: string[] };
    const { cases } = vectors<{ cases: Case[] }>("sourceignoreCases.json");
    for (const [n, { why, ignore, ignored, kept }] of cases.entries()) {
        it(`case ${n + 1}: ${JSON.stringify(ignore)}${why ? ` (${why})` : ""}`, () => {
            const skips = ignoreMatcher(readPatterns(ignore));
            assert.deepEqual(
                { ignored: [...ignored, ...kept].filter(skips), kept: [...ignored, ...kept].filter((key) => !skips(key)) },
                { ignored, kept },
            );
        });
    }
});
