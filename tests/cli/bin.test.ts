import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { satisfies, SUPPORTED } from "../../bin/requireNode.js";
import packageJson from "../../package.json" with { type: "json" };

const bin = path.resolve(import.meta.dirname, "../../bin/bucketops.js");

describe("the bucketops executable (bin/bucketops.js)", () => {
    it("lists its commands and exits 0 for --help", () => {
        const run = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        for (const command of ["push", "revision", "history", "rollback", "status"]) {
            assert.match(run.stdout, new RegExp(`^  ${command} `, "m"));
        }
    });

    it("shows examples in each command's help, using only that command's flags", () => {
        for (const command of ["push", "revision", "history", "rollback", "status"]) {
            const run = spawnSync(process.execPath, [bin, command, "--help"], { encoding: "utf8" });
            assert.equal(run.status, 0, run.stderr);
            const [options, examples] = run.stdout.split("\nExamples:\n");
            assert.ok(examples, `${command} --help has an Examples: block`);
            const used = [...examples.matchAll(/^ {2}bucketops (\S+)(.*)$/gm)];
            assert.ok(used.length >= 2, `${command}: ${examples}`);
            for (const [, name, args] of used) {
                assert.equal(name, command);
                for (const [flag] of args.matchAll(/--[a-z-]+/g)) assert.match(options, new RegExp(`${flag}\\b`), `${command} --help lists ${flag}`);
            }
        }
    });

    it("prints one message on stderr and exits 2 for a bad URL", () => {
        const run = spawnSync(process.execPath, [bin, "revision", "ftp://bucket/x"], { encoding: "utf8" });
        assert.equal(run.status, 2);
        assert.equal(run.stdout, "");
        assert.equal(run.stderr.trim(), "bucketops: invalid bucket URL 'ftp://bucket/x': expected s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]");
    });

    it("says what --kubeconfig each command uses: push and rollback never ~/.kube/config alone, status and resume do", () => {
        const help = (command: string) => spawnSync(process.execPath, [bin, command, "--help"], { encoding: "utf8" }).stdout.replace(/\s+/g, " ");
        for (const command of ["push", "rollback"]) {
            assert.match(help(command), /--kubeconfig <file> kubeconfig of the cluster whose Flux Bucket reads the prefix \(default: the stack outputs' kubeconfig, else KUBECONFIG; ~\/\.kube\/config alone is not used\)/);
        }
        for (const command of ["status", "resume"]) {
            assert.match(help(command), /--kubeconfig <file> kubeconfig \(default: the stack outputs' kubeconfig, else KUBECONFIG, else ~\/\.kube\/config\)/);
        }
    });
});

describe("bin/bucketops.js run as a program (npx bucketops, npm's link)", () => {
    // The first line of the file is sh's: it starts `node` from PATH with V8's young generation capped. This Node
    // first on PATH; NODE_OPTIONS --import prints what Node was started with, before the CLI runs.
    const printExecArgv = "--import=data:text/javascript,process.stderr.write(JSON.stringify(process.execArgv)+'\\n')";
    const run = (file: string, args: string[], nodeOptions = printExecArgv) =>
        spawnSync(file, args, {
            encoding: "utf8",
            env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`, NODE_OPTIONS: nodeOptions },
        });
    const startedWith = (stderr: string) => JSON.parse(stderr.split("\n")[0]) as string[];

    it("starts Node with 2 to 4 MiB semi-spaces and passes every argument through unchanged, spaces and quotes included", () => {
        const result = run(bin, ["revision", "ftp://a b/'c\" $HOME"]);
        assert.equal(result.status, 2, result.stderr);
        assert.deepEqual(startedWith(result.stderr), ["--min-semi-space-size=2", "--max-semi-space-size=4"]);
        assert.equal(result.stderr.split("\n")[1], "bucketops: invalid bucket URL 'ftp://a b/'c\" $HOME': expected s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>]");
    });

    it("runs through a symlink in another folder, as npm links a bin", (t) => {
        const dir = mkdtempSync(path.join(tmpdir(), "bucketops-link-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        symlinkSync(bin, path.join(dir, "bucketops"));
        const result = run(path.join(dir, "bucketops"), ["--help"]);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(startedWith(result.stderr), ["--min-semi-space-size=2", "--max-semi-space-size=4"]);
        assert.match(result.stdout, /^Usage: bucketops /);
    });

    it("leaves the young generation to NODE_OPTIONS when it sizes it", () => {
        for (const size of ["--max-semi-space-size=16", "--max_semi_space_size=1"]) {
            const result = run(bin, ["--help"], `${size} ${printExecArgv}`);
            assert.equal(result.status, 0, `${size}: ${result.stderr}`);
            assert.deepEqual(startedWith(result.stderr), [], size);
        }
    });
});

describe("the Node check before any TypeScript is loaded (bin/requireNode.js)", () => {
    it("takes package.json's engines range", () => {
        assert.equal(SUPPORTED, packageJson.engines.node);
        for (const version of ["22.18.0", "22.20.1", "24.0.0", "25.2.1", "v24.11.0"]) assert.equal(satisfies(version), true, version);
        for (const version of ["20.20.2", "22.17.9", "23.11.0", "18.19.0"]) assert.equal(satisfies(version), false, version);
    });

    // The machine's own Node, when it is an older one (this machine's /usr/bin/node is 20): the real failure mode.
    const older = ["/usr/bin/node", "/usr/local/bin/node"].find((node) => {
        const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim();
        return version !== undefined && version !== "" && !satisfies(version);
    });
    it("an older Node gets one line naming the Node needed, not ERR_UNKNOWN_FILE_EXTENSION (bucketops and npm run render)", { skip: older ? false : "no older Node on this machine" }, () => {
        const version = spawnSync(older!, ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "");
        const cli = spawnSync(older!, [bin, "push", "--help"], { encoding: "utf8" });
        assert.equal(cli.status, 1);
        assert.equal(cli.stdout, "");
        assert.equal(
            cli.stderr.trim(),
            `bucketops needs Node ${packageJson.engines.node} (it runs its TypeScript sources directly, which older Node cannot); this is Node ${version}. ` +
                "Install Node 24 (or 22.18 and later), e.g. 'nvm install 24', and run it again",
        );
        // npm run render's script, as package.json has it, with that Node first on PATH.
        const render = spawnSync("sh", ["-c", packageJson.scripts.render], {
            encoding: "utf8",
            cwd: path.resolve(import.meta.dirname, "../.."),
            env: { ...process.env, PATH: `${path.dirname(older!)}:${process.env.PATH}` },
        });
        assert.equal(render.status, 1);
        assert.doesNotMatch(render.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
        assert.match(render.stderr, /^npm run render needs Node /);
    });
});
