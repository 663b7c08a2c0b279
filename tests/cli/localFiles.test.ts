import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs, { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import fsPromises from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import path from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { bucketops } from "./helpers/cli.ts";
import { configMap, manifestTree, writeTree } from "../support/trees.ts";
import { Moto } from "../support/moto.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/bucketops.js");

/**
 * Local problems are bad input, not crashes: one line naming the path and what is wrong, exit 2, nothing
 * uploaded. Symlinks within the tree are followed (uploaded with their target's content); any other is refused.
 */
describe("push with bad local files (moto_server)", () => {
    let moto: Moto;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("local");
    });
    after(() => moto?.stop());

    /** Each test pushes under a prefix of its own. */
    const push = (dir: string, prefix: string) => bucketops("push", dir, `s3://local/${prefix}`, "--endpoint", moto.endpoint);

    async function expectRefused(dir: string, prefix: string, message: string): Promise<void> {
        const run = await push(dir, prefix);
        assert.equal(run.code, 2, run.err);
        assert.equal(run.err, `bucketops: ${message}; nothing was uploaded`);
        assert.deepEqual(await moto.contents("local", prefix), {});
    }

    it("a dangling symlink", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        symlinkSync("missing.yaml", path.join(dir, "b.yaml"));
        await expectRefused(dir, "dangling/", `${path.join(dir, "b.yaml")}: is a dangling symlink (its target does not exist)`);
    });

    it("a symlink loop, through a folder or between two links", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        mkdirSync(path.join(dir, "sub"));
        symlinkSync("..", path.join(dir, "sub", "up"));
        await expectRefused(dir, "loop/", `${path.join(dir, "sub", "up")}: is a symlink loop (it leads back to a folder above it)`);

        const pair = writeTree(manifestTree(["a"], "v1"));
        symlinkSync("y", path.join(pair, "x"));
        symlinkSync("x", path.join(pair, "y"));
        const run = await push(pair, "loop/");
        assert.equal(run.code, 2);
        assert.match(run.err, new RegExp(`^bucketops: ${pair}/[xy]: is a symlink loop; nothing was uploaded$`));
    });

    it("a symlink out of the tree", async () => {
        const outside = writeTree({ "secret.yaml": configMap("secret", "x") });
        const dir = writeTree(manifestTree(["a"], "v1"));
        symlinkSync(path.join(outside, "secret.yaml"), path.join(dir, "b.yaml"));
        await expectRefused(dir, "outside/", `${path.join(dir, "b.yaml")}: is a symlink out of the tree (to ${path.join(outside, "secret.yaml")}); only symlinks within the tree are followed`);
    });

    it("follows a symlink within the tree, uploading its target's content under the link's key", async () => {
        const tree = manifestTree(["a"], "v1");
        const dir = writeTree(tree);
        mkdirSync(path.join(dir, "shared"));
        writeFileSync(path.join(dir, "shared", "kustomization.yaml"), "resources:\n  - ../a.yaml\n");
        symlinkSync("shared", path.join(dir, "alias"));
        const run = await push(dir, "within/");
        assert.equal(run.code, 0, run.err);
        assert.deepEqual(Object.keys(await moto.contents("local", "within/")).sort(), [
            "within/a.yaml",
            "within/alias/kustomization.yaml",
            "within/kustomization.yaml",
            "within/shared/kustomization.yaml",
        ]);
    });

    it("an unreadable file, as a user who may not read it", (t) => {
        // root reads everything, so the CLI runs as the unprivileged user 'nobody' when the tests run as root.
        const asNobody = process.getuid?.() === 0;
        const dir = writeTree(manifestTree(["a", "b"], "v1"));
        chmodSync(path.join(dir, "b.yaml"), 0o000);
        if (asNobody) t.diagnostic("running bucketops as uid 65534 (nobody)");
        const run = spawnSync(process.execPath, [BIN, "push", dir, "s3://local/unreadable/", "--endpoint", moto.endpoint], {
            encoding: "utf8",
            env: { ...process.env, HOME: "/tmp", NODE_COMPILE_CACHE: "" },
            ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
        });
        assert.equal(run.status, 2, run.stderr);
        assert.equal(run.stderr, `bucketops: ${path.join(dir, "b.yaml")}: cannot be read (permission denied); nothing was uploaded\n`);
    });

    it("running out of file descriptors gives one message naming the limit, exit 1, nothing uploaded", async () => {
        const dir = writeTree(manifestTree(["a", "b", "c"], "v1"));
        const emfile = Object.assign(new Error(`EMFILE: too many open files, open '${path.join(dir, "b.yaml")}'`), { code: "EMFILE", syscall: "open" });
        // Every read of b.yaml fails so: the tree's (synchronous, src/fs/bounded.ts readFilesInTurn) and the validator's.
        const original = fsPromises.readFile;
        const originalSync = fs.readFileSync;
        mock.method(fsPromises, "readFile", (file: unknown, ...rest: unknown[]) =>
            String(file).endsWith("b.yaml") ? Promise.reject(emfile) : (original as (...args: unknown[]) => Promise<unknown>)(file, ...rest),
        );
        mock.method(fs, "readFileSync", (file: unknown, ...rest: unknown[]) => {
            if (String(file).endsWith("b.yaml")) throw emfile;
            return (originalSync as (...args: unknown[]) => unknown)(file, ...rest);
        });
        syncBuiltinESMExports();
        try {
            const run = await push(dir, "emfile/");
            assert.equal(run.code, 1);
            assert.match(
                run.err,
                /^bucketops: too many open files \(EMFILE\): this process may open at most \d+ files\. bucketops itself keeps at most a few dozen open; raise the limit \(e\.g\. 'ulimit -n 4096' in this shell\) or close what holds descriptors, and re-run\.$/,
            );
            assert.deepEqual(await moto.contents("local", "emfile/"), {});
        } finally {
            mock.restoreAll();
            syncBuiltinESMExports();
        }
    });
});
