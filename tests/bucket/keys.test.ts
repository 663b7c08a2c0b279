import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareKeys } from "../../src/bucket/keys.ts";

// S3 and GCS list keys by their UTF-8 bytes (and Go's sort.Strings orders Flux's index so): compareKeys must give the
// sign Buffer.compare gives on the keys' UTF-8, for every pair.
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
const sign = (n: number) => Math.sign(n);

describe("compareKeys: UTF-8 byte order without encoding", () => {
    it("orders the code points where UTF-16 and UTF-8 disagree as UTF-8 does", () => {
        const vectors: [string, string][] = [
            ["\uffff", "\u{10000}"], // U+FFFF before U+10000 (EF BF BF < F0 90 80 80); as UTF-16 units, 0xFFFF > 0xD800
            ["\ue000", "\u{1f600}"],
            ["a\ufb01", "a\u{1f4c1}/x"],
            ["\ud7ff", "\ue000"],
            ["\u{10ffff}", "\u{10000}"],
            ["app/a", "app/a/b"], // a key before the keys it is a prefix of
            ["app/a-b", "app/a/b"], // '-' (0x2D) before '/' (0x2F)
            ["Z", "a"],
            ["", "a"],
            ["same", "same"],
        ];
        for (const [a, b] of vectors) {
            assert.equal(sign(compareKeys(a, b)), sign(utf8Order(a, b)), JSON.stringify([a, b]));
            assert.equal(sign(compareKeys(b, a)), sign(utf8Order(b, a)), JSON.stringify([b, a]));
        }
    });

    it("agrees with Buffer.compare on 20,000 random pairs mixing ASCII, the BMP above U+E000, and code points above U+FFFF", () => {
        // A fixed-seed generator: the same pairs every run.
        let seed = 42;
        const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const alphabet = ["a", "b", "/", "-", ".", "\u00e9", "\u4e2d", "\ud7ff", "\ue000", "\uffee", "\uffff", "\u{10000}", "\u{1f600}", "\u{10ffff}"];
        const key = () => Array.from({ length: 1 + Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
        for (let i = 0; i < 20_000; i++) {
            const a = key();
            const b = next() < 0.3 ? a + key() : key();
            assert.equal(sign(compareKeys(a, b)), sign(utf8Order(a, b)), JSON.stringify([a, b]));
        }
    });
});
