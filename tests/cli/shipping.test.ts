import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bucketops } from "./helpers/cli.ts";
import { gitListing } from "../../src/fs/gitFiles.ts";
import { configMap, writeTree } from "../support/trees.ts";
import { apart, Moto } from "../support/moto.ts";
import { ageIdentity, awsSecretAccessKey, configMapWith, plainSecret, privateKeyPem, sopsSecret } from "../support/secrets.ts";

const KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - app.yaml\n  - legacy.yaml\n";

/**
 * What push ships from a Git work tree is what Git would commit, as `git ls-files` says from the tree's folder
 * (git 2.39 here): every .gitignore level, the user's global excludes, tracked files kept even when an ignore rule
 * matches them now. Real work trees made by each test; moto_server stands for S3.
 */
describe("push ships what Git would ship, and refuses secrets in the clear (moto_server, real Git work trees)", () => {
    let moto: Moto;
    /** A HOME of the tests' own, whose global excludes (XDG_CONFIG_HOME/git/ignore, Git's default core.excludesFile) list *.swp. */
    let home: string;
    const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, GIT_CONFIG_NOSYSTEM: process.env.GIT_CONFIG_NOSYSTEM };
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("ship");
        home = mkdtempSync(path.join(tmpdir(), "bucketops-home-"));
        mkdirSync(path.join(home, ".config", "git"), { recursive: true });
        writeFileSync(path.join(home, ".config", "git", "ignore"), "*.swp\n");
        Object.assign(process.env, { HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), GIT_CONFIG_NOSYSTEM: "1" });
    });
    after(() => {
        for (const [name, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
        rmSync(home, { recursive: true, force: true });
        moto?.stop();
    });

    const endpoint = () => ["--endpoint", moto.endpoint];
    const git = (dir: string, ...args: string[]) =>
        execFileSync("git", ["-C", dir, "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.org", ...args], { encoding: "utf8" });

    /** A repository whose deploy/ folder is the tree: files written, all but the ignored committed. */
    function repository(files: Record<string, string>, gitignore: string): { repo: string; tree: string } {
        const repo = writeTree({ ".gitignore": gitignore, ...Object.fromEntries(Object.entries(files).map(([name, body]) => [`deploy/${name}`, body])) });
        git(repo, "init", "-q", "-b", "main");
        git(repo, "add", "-A");
        git(repo, "commit", "-q", "-m", "the tree");
        return { repo, tree: path.join(repo, "deploy") };
    }

    it("leaves out what Git ignores at every level and globally, keeps what it tracks, and says so; diff sees the same set", async () => {
        const { tree } = repository(
            {
                "kustomization.yaml": KUSTOMIZATION,
                "app.yaml": configMap("app", "v1"),
                "legacy.yaml": configMap("legacy", "v1"),
                "gone.yaml": configMap("gone", "v1"),
                "secret.env": "PASSWORD=hunter2\n",
                "editor.swp": "swap\n",
                "apps/dev/.gitignore": "local/\n",
                "apps/dev/db.dec.yaml": plainSecret("db", { password: "hunter2" }),
                "apps/dev/local/notes.yaml": "broken: [\n",
            },
            "secret.env\n*.dec.yaml\n",
        );
        // Tracked, then ignored: Git still commits it. Tracked, then deleted: not there. Untracked and not ignored: shipped.
        writeFileSync(path.join(tree, ".gitignore"), "legacy.yaml\n");
        rmSync(path.join(tree, "gone.yaml"));
        writeFileSync(path.join(tree, "apps/dev/config.yaml"), configMap("config", "v1"));
        // A symlink to a folder of the tree ships what Git would ship from that folder, under the link's name.
        symlinkSync("apps/dev", path.join(tree, "current"));

        const pushed = await bucketops("push", tree, "s3://ship/git/", ...endpoint());
        assert.equal(pushed.code, 0, pushed.err);
        assert.deepEqual(Object.keys(await moto.contents("ship", "git/")).sort(), [
            "git/.gitignore",
            "git/app.yaml",
            "git/apps/dev/.gitignore",
            "git/apps/dev/config.yaml",
            "git/current/.gitignore",
            "git/current/config.yaml",
            "git/kustomization.yaml",
            "git/legacy.yaml",
        ]);
        assert.match(
            pushed.out,
            new RegExp(
                `^left out 6 path\\(s\\) in ${tree} that Git ignores: apps/dev/db\\.dec\\.yaml, apps/dev/local/, current/db\\.dec\\.yaml, ` +
                    `current/local/notes\\.yaml, editor\\.swp, secret\\.env \\(--include-ignored ships them\\)$`,
                "m",
            ),
        );
        // Validation saw the same set: the ignored plain Secret and the ignored broken YAML did not stop the push.
        assert.match(pushed.out, /^validated 8 file\(s\) in /m);

        const diff = await bucketops("diff", tree, "s3://ship/git/", ...endpoint());
        assert.equal(diff.code, 0, diff.out);
        const all = await bucketops("diff", tree, "s3://ship/git/", ...endpoint(), "--include-ignored");
        assert.equal(all.code, 1);
        assert.deepEqual(
            [...all.out.matchAll(/^diff a\/(\S+) b\/\S+$/gm)].map(([, key]) => key),
            ["apps/dev/db.dec.yaml", "apps/dev/local/notes.yaml", "current/db.dec.yaml", "current/local/notes.yaml", "editor.swp", "secret.env"],
        );
    });

    it("a tree Git ignores as a whole is refused, --include-ignored ships it; a tree outside Git ships every file, with a note", async () => {
        const { repo } = repository({ "app.yaml": configMap("app", "v1") }, "out/\n");
        const out = path.join(repo, "out");
        writeTree({ "app.yaml": configMap("generated", "v1") }, out);
        const refused = await bucketops("push", out, "s3://ship/generated/", ...endpoint());
        assert.equal(refused.code, 2);
        assert.equal(refused.err, `bucketops: Git ignores every file of '${out}': nothing to ship. A generated tree? Pass --include-ignored to ship it`);
        const included = await bucketops("push", out, "s3://ship/generated/", ...endpoint(), "--include-ignored");
        assert.equal(included.code, 0, included.err);
        assert.match(included.out, new RegExp(`^note: --include-ignored: every file in ${out} is shipped, those Git ignores too$`, "m"));
        assert.deepEqual(Object.keys(await moto.contents("ship", "generated/")), ["generated/app.yaml"]);

        const plain = writeTree({ ".gitignore": "secret.env\n", "app.yaml": configMap("app", "v1"), "secret.env": "TOKEN=t\n" });
        const pushed = await bucketops("push", plain, "s3://ship/plain/", ...endpoint());
        assert.equal(pushed.code, 0, pushed.err);
        assert.match(pushed.out, new RegExp(`^note: ${plain} is in no Git work tree: every file in it is shipped \\(no \\.gitignore applies\\); make sure none holds a secret$`, "m"));
        assert.deepEqual(Object.keys(await moto.contents("ship", "plain/")).sort(), ["plain/.gitignore", "plain/app.yaml", "plain/secret.env"]);
    });

    it("a nested repository is left out, as a commit holds no file of it, and the push says so", async () => {
        const { tree } = repository({ "app.yaml": configMap("app", "v1") }, "");
        writeTree({ "lib.yaml": configMap("lib", "v1") }, path.join(tree, "vendor"));
        git(path.join(tree, "vendor"), "init", "-q");
        const pushed = await bucketops("push", tree, "s3://ship/nested/", ...endpoint());
        assert.equal(pushed.code, 0, pushed.err);
        assert.match(pushed.out, /^left out 1 submodule\(s\) or nested repositories, whose files a commit does not hold: vendor\/$/m);
        assert.deepEqual(Object.keys(await moto.contents("ship", "nested/")), ["nested/app.yaml"]);
    });

    it("without a git program, a folder of a work tree is refused (its ignore rules cannot be known) and any other is outside Git", async () => {
        const { tree } = repository({ "app.yaml": configMap("app", "v1") }, "");
        const outside = writeTree({ "app.yaml": configMap("app", "v1") });
        const path_ = process.env.PATH;
        process.env.PATH = "/nonexistent";
        try {
            await assert.rejects(gitListing(tree), {
                name: "GitListingError",
                message: `${tree} is in a Git work tree, but there is no git program to ask which files it ignores: install git, or pass --include-ignored to ship every file`,
            });
            assert.equal(await gitListing(outside), undefined);
        } finally {
            process.env.PATH = path_;
        }
    });

    it("starts no git where Git could find no repository, and still asks it where it could (GIT_DIR, a bare repository)", async () => {
        // A git that only records that it ran, then answers as outside a repository.
        const bin = mkdtempSync(path.join(tmpdir(), "fake-git-"));
        const ran = path.join(bin, "ran");
        writeFileSync(path.join(bin, "git"), `#!/bin/sh\necho "$@" >> ${ran}\necho "fatal: not a git repository (or any of the parent directories): .git" >&2\nexit 128\n`, { mode: 0o755 });
        const outside = writeTree({ "app.yaml": configMap("app", "v1") });
        const bare = mkdtempSync(path.join(tmpdir(), "bare-"));
        execFileSync("git", ["init", "-q", "--bare", bare]);
        const saved = { PATH: process.env.PATH, GIT_DIR: process.env.GIT_DIR };
        process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
        try {
            assert.equal(await gitListing(outside), undefined);
            assert.equal(existsSync(ran), false, "no git process outside a repository");
            process.env.GIT_DIR = path.join(outside, "elsewhere.git");
            assert.equal(await gitListing(outside), undefined);
            assert.equal(existsSync(ran), true, "GIT_DIR names a repository: git is asked");
            delete process.env.GIT_DIR;
            rmSync(ran);
            assert.equal(await gitListing(bare), undefined);
            assert.equal(existsSync(ran), true, "a bare repository's folder: git is asked");
        } finally {
            process.env.PATH = saved.PATH;
            if (saved.GIT_DIR === undefined) delete process.env.GIT_DIR;
            else process.env.GIT_DIR = saved.GIT_DIR;
        }
    });

    it("refuses a plain Secret before writing anything, and ships the same Secret SOPS-encrypted", async () => {
        const { repo, tree } = repository({ "kustomization.yaml": "resources:\n  - db.yaml\n", "db.yaml": plainSecret("db", { password: "hunter2", user: "app" }) }, "");
        const refused = await bucketops("push", tree, "s3://ship/secrets/", ...endpoint());
        assert.equal(refused.code, 1);
        assert.equal(
            refused.err,
            `bucketops: ${tree} holds 1 secret(s) in the clear, nothing was uploaded:\n` +
                `  ${path.join(tree, "db.yaml")}: Secret/db: stringData.password, stringData.user: are not encrypted: this Secret would be readable by ` +
                "everyone who can read the bucket, in every version it keeps. Refused; encrypt it with SOPS (sops --encrypt --encrypted-regex " +
                "'^(data|stringData)$' --in-place <file>, decrypted by the Flux Kustomization's spec.decryption), or keep it out of the tree with " +
                "Sealed Secrets or the External Secrets Operator\n" +
                "(--allow-plain-secrets ships them anyway; if one was pushed before, see 'bucketops purge')",
        );
        assert.doesNotMatch(refused.err, /hunter2/);
        assert.deepEqual(await moto.leftBehind("ship", "secrets/"), []);

        writeFileSync(path.join(tree, "db.yaml"), sopsSecret("db", { password: "hunter2", user: "app" }));
        git(repo, "commit", "-q", "-am", "encrypt db");
        const pushed = await bucketops("push", tree, "s3://ship/secrets/", ...endpoint());
        assert.equal(pushed.code, 0, pushed.err);
        assert.deepEqual(Object.keys(await moto.contents("ship", "secrets/")).sort(), ["secrets/db.yaml", "secrets/kustomization.yaml"]);
    });

    it("refuses credentials in any file by secretlint's and gitleaks' rules, whatever Flux ignores; --allow-plain-secrets ships them", async () => {
        const { repo, tree } = repository(
            {
                "app.yaml": configMapWith("app", { "aws_secret_access_key": awsSecretAccessKey(), region: "eu-west-1" }),
                "tls.yaml": configMapWith("tls", { "tls.key": privateKeyPem() }),
                "README.md": `Decrypt with this key:\n\n${ageIdentity()}\n`,
            },
            "",
        );
        writeFileSync(path.join(repo, "deploy", ".sourceignore"), "*.md\n"); // Flux would not fetch README.md; the bucket still holds it
        git(repo, "add", "-A");
        git(repo, "commit", "-q", "-m", "ignore docs");
        const refused = await bucketops("push", tree, "s3://ship/", ...endpoint());
        assert.equal(refused.code, 1);
        const lines = refused.err.split("\n");
        assert.equal(lines.length, 5, refused.err);
        assert.equal(lines[0], `bucketops: ${tree} holds 3 secret(s) in the clear, nothing was uploaded:`);
        assert.match(lines[1], new RegExp(`^  ${path.join(tree, "README.md")}: line 3: found an age secret key \\(gitleaks age-secret-key\\)\\. Refused`));
        assert.match(lines[2], new RegExp(`^  ${path.join(tree, "app.yaml")}: line 7: found AWS Secret Access Key \\(secretlint aws, AWSSecretAccessKey\\)\\. Refused: a credential in the bucket`));
        assert.match(lines[3], new RegExp(`^  ${path.join(tree, "tls.yaml")}: line 7: found private key \\(secretlint privatekey, PrivateKey\\)\\. Refused`));
        assert.deepEqual(await moto.versions("ship", "app.yaml"), []);

        const allowed = await apart(() => bucketops("push", tree, "s3://ship/", ...endpoint(), "--allow-plain-secrets"));
        assert.equal(allowed.code, 0, allowed.err);
    });
});
