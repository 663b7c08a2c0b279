import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { envsubst } from "../../src/validate/envsubst.ts";

// Upstream's own vectors, converted to data: fluxcd/pkg envsubst/v1.5.0 envsubst/eval_test.go.
const vectors = JSON.parse(readFileSync(new URL("data/envsubst-vectors.json", import.meta.url), "utf8")) as {
    expand: { params: Record<string, string>; input: string; output: string }[];
    strict: { params: Record<string, string>; input: string; output: string; error: boolean }[];
};

describe("envsubst (Flux's postBuild substitution)", () => {
    it("has upstream's vectors", () => {
        assert.equal(vectors.expand.length, 34);
        assert.equal(vectors.strict.length, 5);
    });

    for (const { params, input, output } of vectors.expand) {
        it(`expands ${JSON.stringify(input)} as Flux does (every name set, as kustomize-controller's non-strict mapping)`, () => {
            assert.equal(
                envsubst(input, (name) => [params[name] ?? "", true]),
                output,
            );
        });
    }

    for (const { params, input, output, error } of vectors.strict) {
        it(`strict: ${JSON.stringify(input)}`, () => {
            const run = () => envsubst(input, (name) => [params[name] ?? "", name in params]);
            if (error) assert.throws(run, /variable not set/);
            else assert.equal(run(), output);
        });
    }

    it("refuses an unclosed expression, as Flux's build does", () => {
        assert.throws(() => envsubst("a: ${VAR", () => ["", true]), /missing closing brace|bad substitution/);
    });
});
