import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { progressBar } from "../../src/cli/progress.ts";

/** What progressBar writes to stderr while stderr is (or is not) a terminal. */
function drawn(tty: boolean, ticks: number, total: number): string {
    const written: string[] = [];
    const isTTY = Object.getOwnPropertyDescriptor(process.stderr, "isTTY");
    const write = process.stderr.write;
    Object.defineProperty(process.stderr, "isTTY", { value: tty, configurable: true });
    process.stderr.write = ((chunk: string | Uint8Array) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
        const bar = progressBar("push", total);
        for (let i = 0; i < ticks; i++) bar.tick();
        bar.stop();
    } finally {
        process.stderr.write = write;
        if (isTTY) Object.defineProperty(process.stderr, "isTTY", isTTY);
        else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    return written.join("");
}

describe("the upload progress bar (its library loads only for a terminal)", () => {
    it("draws the label and the count on a terminal", () => {
        assert.match(drawn(true, 2, 2), /push \[[^\]]*\] 2\/2/);
    });
    it("writes nothing when stderr is not a terminal, or there is nothing to count", () => {
        assert.equal(drawn(false, 2, 2), "");
        assert.equal(drawn(true, 0, 0), "");
    });
});
