import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { writeManifestTree } from "../support/trees.ts";
import { walkFiles } from "../../src/fs/walk.ts";
import { printedRevision } from "./helpers/cli.ts";
import { apart, Moto } from "../support/moto.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/bucketops.js");
const FILE_LIMIT = 256; // macOS's default; Linux's is 1,024

/** `bucketops <args>` in a child process whose open-file limit is FILE_LIMIT, as a user's shell after `ulimit -n 256`. */
async function bucketopsLimited(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const command = `ulimit -n ${FILE_LIMIT} && exec "$0" "$@"`;
    try {
        const { stdout, stderr } = await promisify(execFile)("bash", ["-c", command, process.execPath, BIN, ...args], { maxBuffer: 64 * 1024 * 1024 });
        return { code: 0, out: stdout, err: stderr };
    } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, out: failed.stdout, err: failed.stderr };
    }
}

/** Keys whose MD5 differs between the bucket and the tree (missing on either side included), at most ten. */
function differences(bucket: Record<string, string>, tree: Record<string, string>): string[] {
    const keys = new Set([...Object.keys(bucket), ...Object.keys(tree)]);
    return [...keys].filter((key) => bucket[key] !== tree[key]).sort().slice(0, 10);
}

/** The tree's files as keys → MD5 of their content, the way the bucket should hold them (Moto.md5s). */
async function md5sOf(root: string): Promise<Record<string, string>> {
    const files = await walkFiles(root, { skipFolder: () => false });
    return Object.fromEntries(files.map((file) => [path.relative(root, file), createHash("md5").update(readFileSync(file)).digest("hex")]));
}

describe("a 2,000-file tree with at most 256 open files (moto_server)", () => {
    let moto: Moto;
    let root: string;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("scale");
        root = mkdtempSync(path.join(tmpdir(), "bucketops-scale-"));
    });
    after(() => {
        moto?.stop();
        rmSync(root, { recursive: true, force: true });
    });

    it("pushes, changes, lists history and rolls back, and the bucket equals the tree each time", async () => {
        const tree = writeManifestTree(root, 1980); // + 20 folder kustomizations + the root one = 2,001 files
        assert.equal(tree.fileCount, 2001);
        const url = "s3://scale/";
        const endpoint = ["--endpoint", moto.endpoint];
        const original = await md5sOf(root);

        const first = await apart(() => bucketopsLimited("push", root, url, ...endpoint));
        assert.equal(first.code, 0, first.err);
        assert.deepEqual(differences(await moto.md5s("scale"), original), []);

        // A second state: one manifest changed, the last folder (80 manifests and its kustomization) dropped.
        writeFileSync(tree.changedFile, readFileSync(tree.changedFile, "utf8").replace("value-0", "value-0-changed"));
        rmSync(path.join(root, "app-019"), { recursive: true });
        writeFileSync(path.join(root, "kustomization.yaml"), readFileSync(path.join(root, "kustomization.yaml"), "utf8").replace("  - app-019\n", ""));
        const second = await apart(() => bucketopsLimited("push", root, url, ...endpoint));
        assert.equal(second.code, 0, second.err);
        const changed = await md5sOf(root);
        assert.equal(Object.keys(changed).length, 1920);
        assert.deepEqual(differences(await moto.md5s("scale"), changed), []);

        const history = await bucketopsLimited("history", url, "--json", ...endpoint);
        assert.equal(history.code, 0, history.err);
        const states = JSON.parse(history.out) as { revision: string; objects: number }[];
        assert.deepEqual(states.map(({ objects }) => objects), [2001, 1920]);
        assert.equal(states[0].revision, printedRevision({ code: 0, out: first.out, err: "" }));

        const rollback = await apart(() => bucketopsLimited("rollback", url, "--to", states[0].revision, ...endpoint));
        assert.equal(rollback.code, 0, rollback.err);
        assert.deepEqual(differences(await moto.md5s("scale"), original), []);
    });
});
