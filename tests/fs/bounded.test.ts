import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { readFilesInTurn } from "../../src/fs/bounded.ts";

describe("readFilesInTurn", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bounded-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const files = Array.from({ length: 3000 }, (_, i) => {
        const file = path.join(dir, `f${String(i).padStart(4, "0")}.yaml`);
        writeFileSync(file, `n: ${i}\n`);
        return file;
    });

    it("hands each file's content to `use`, in the order of the files", async () => {
        const read = await readFilesInTurn(files, (file, content) => [path.basename(file), content.toString()]);
        assert.deepEqual(read, files.map((file, i) => [path.basename(file), `n: ${i}\n`]));
    });

    it("lets the event loop run while it reads (an answer that arrives meanwhile is read then, not after the last file)", async () => {
        // 3,000 files take tens of milliseconds to read here; the loop gets a turn at least every few of them.
        let readSoFar = 0;
        let whenTheLoopRan: number | undefined;
        setImmediate(() => (whenTheLoopRan = readSoFar));
        await readFilesInTurn(files, () => readSoFar++);
        assert.equal(readSoFar, files.length);
        assert.ok(whenTheLoopRan !== undefined && whenTheLoopRan < files.length, `the loop ran after ${whenTheLoopRan} of ${files.length} files`);
    });

    it("a read that fails fails the whole, and no file after it is read", async () => {
        const seen: string[] = [];
        const failing = files[10];
        await assert.rejects(
            readFilesInTurn(files.slice(0, 20), (file) => seen.push(file), (file) => {
                if (file === failing) throw Object.assign(new Error("EACCES"), { code: "EACCES" });
                return Buffer.from("");
            }),
            /EACCES/,
        );
        assert.deepEqual(seen, files.slice(0, 10));
    });
});
