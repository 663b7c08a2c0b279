import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { bucketops, md5, printedRevision, sha256, states, type JsonState, type Run } from "./helpers/cli.ts";
import { configMap, manifestTree, prefixed, writeTree } from "../support/trees.ts";
import { environmentRevision, environmentTree } from "./helpers/environments.ts";
import { historyReport, loadHistory } from "../../src/cli/history.ts";
import { accessDenied } from "../../src/cli/store/errors.ts";
import type { ObjectStore, ObjectVersion } from "../../src/cli/store/types.ts";
import { parseBucketUrl } from "../../src/cli/url.ts";
import { apart, Moto } from "../support/moto.ts";

function filesUnder(root: string): string[] {
    return (readdirSync(root, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[])
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
        .sort();
}

/** History states without their times (which depend on when the test ran). */
function untimed(run: Run): Omit<JsonState, "time">[] {
    return states(run).map(({ time: _time, release, ...state }) => {
        // Each state a push wrote carries that push's release record (tests/cli/provenance.test.ts checks its content).
        assert.deepEqual([release?.command, release?.revision], ["push", state.revision]);
        return state;
    });
}

describe("bucketops with environments: several prefixes of one bucket (moto_server)", () => {
    let moto: Moto;
    let endpoint: string[];
    before(async () => {
        moto = await Moto.start();
        endpoint = ["--endpoint", moto.endpoint];
        await moto.createBucket("checked");
        await moto.createBucket("fleet");
    });
    after(() => moto?.stop());

    it("push validates Flux paths against the URL's prefix before uploading anything", async () => {
        const wrong = await bucketops("push", "deploy", "s3://checked/prod", ...endpoint);
        assert.equal(wrong.code, 1);
        assert.equal(
            wrong.err,
            "bucketops: deploy is not a valid manifest tree, nothing was uploaded:\n" +
                "2 manifest problems:\n" +
                `  deploy/clusters/dev/apps.yaml: Kustomization/apps: spec.path: "./apps/dev" is outside the prefix prod/ this tree is pushed under; Flux keeps the prefix in artifact paths, so write ./prod/apps/dev\n` +
                `  deploy/clusters/dev/infrastructure.yaml: Kustomization/infrastructure-controllers: spec.path: "./infrastructure/controllers" is outside the prefix prod/ this tree is pushed under; Flux keeps the prefix in artifact paths, so write ./prod/infrastructure/controllers`,
        );
        assert.deepEqual(await moto.leftBehind("checked", ""), []);

        const fixture = "tests/deploy/fixtures/prod";
        const right = await bucketops("push", fixture, "s3://checked/prod", ...endpoint);
        assert.equal(right.code, 0, right.err);
        const files = Object.fromEntries(filesUnder(fixture).map((file) => [file, readFileSync(path.join(fixture, file), "utf8")]));
        assert.equal(Object.keys(files).length, 11);
        assert.deepEqual(await moto.contents("checked"), prefixed("prod/", files));
    });

    it("validates and uploads under one prefix however the URL spells it (./prod, a//b)", async () => {
        const fixture = "tests/deploy/fixtures/prod";
        const files = Object.fromEntries(filesUnder(fixture).map((file) => [file, readFileSync(path.join(fixture, file), "utf8")]));
        await moto.createBucket("spelled");
        // Validation checks the Flux paths against prod/, the prefix the keys get: both from normalizePrefix.
        const dotted = await bucketops("push", fixture, "s3://spelled/./prod", ...endpoint);
        assert.equal(dotted.code, 0, dotted.err);
        assert.deepEqual(await moto.contents("spelled"), prefixed("prod/", files));

        const doubled = await bucketops("push", writeTree(manifestTree(["a"], "v1")), "s3://spelled/a//b", ...endpoint);
        assert.equal(doubled.code, 0, doubled.err);
        assert.deepEqual(Object.keys(await moto.contents("spelled", "a/")).sort(), ["a/b/a.yaml", "a/b/kustomization.yaml"]);
        assert.equal(states(await bucketops("history", "s3://spelled/a/b/", ...endpoint, "--json")).length, 1);
    });

    it("keeps two environments of one versioned bucket apart: revisions over full keys, history, rollback", async () => {
        const dev = { env: "dev", prefix: "dev/", url: "s3://fleet/dev" };
        const prod = { env: "prod", prefix: "teams/a/prod/", url: "s3://fleet/teams/a/prod/" };
        const push = async (target: typeof dev, tree: Record<string, string>) => {
            const run = await bucketops("push", writeTree(tree), target.url, ...endpoint);
            assert.equal(run.code, 0, run.err);
            assert.equal(printedRevision(run), environmentRevision(target.env, target.prefix, tree));
            return run;
        };
        const revision = async (target: typeof dev) => {
            const run = await bucketops("revision", target.url, ...endpoint);
            assert.equal(run.code, 0, run.err);
            return run.out;
        };
        const trees = {
            dev: [environmentTree("dev", dev.prefix, "v1"), environmentTree("dev", dev.prefix, "v2")],
            prod: [environmentTree("prod", prod.prefix, "v1"), environmentTree("prod", prod.prefix, "v2")],
        };

        // The root .sourceignore, which Flux reads for every prefix: README.md is uploaded but not in any revision.
        await apart(() => moto.put("fleet", ".sourceignore", "*.md\n"));
        await apart(async () => {
            await push(dev, trees.dev[0]);
            await push(prod, trees.prod[0]);
        });
        await apart(async () => {
            await push(dev, trees.dev[1]);
            await push(prod, trees.prod[1]);
        });
        assert.equal((await moto.contents("fleet", "dev/"))["dev/README.md"], "# dev v2\n");

        const kustomization = md5(trees.dev[1]["apps/dev/kustomization.yaml"]);
        const devNow = sha256(
            `dev/apps/dev/kustomization.yaml ${kustomization}\n` +
                `dev/apps/dev/settings.yaml ${md5(configMap("settings", "dev-v2"))}\n` +
                `dev/clusters/dev/apps.yaml ${md5(trees.dev[1]["clusters/dev/apps.yaml"])}\n`,
        );
        const prodNow = sha256(
            `teams/a/prod/apps/prod/kustomization.yaml ${kustomization}\n` +
                `teams/a/prod/apps/prod/settings.yaml ${md5(configMap("settings", "prod-v2"))}\n` +
                `teams/a/prod/clusters/prod/apps.yaml ${md5(trees.prod[1]["clusters/prod/apps.yaml"])}\n`,
        );
        assert.equal(await revision(dev), devNow);
        assert.equal(await revision(prod), prodNow);

        // Each prefix's history holds its own keys only, with the root .sourceignore of each time, and starts at the
        // prefix's first push (not at the .sourceignore written before it).
        const history = (target: typeof dev) => bucketops("history", target.url, ...endpoint, "--json");
        const expectedHistory = (target: typeof dev, [v1, v2]: Record<string, string>[]) => {
            const p = target.prefix;
            const e = target.env;
            return [
                {
                    revision: environmentRevision(e, p, v1),
                    objects: 4,
                    added: [`${p}README.md`, `${p}apps/${e}/kustomization.yaml`, `${p}apps/${e}/settings.yaml`, `${p}clusters/${e}/apps.yaml`],
                    modified: [],
                    removed: [],
                    incomplete: false,
                    indexed: 3,
                    source: "release",
                    external: false,
                    number: 1,
                },
                {
                    revision: environmentRevision(e, p, v2),
                    objects: 4,
                    added: [],
                    modified: [`${p}README.md`, `${p}apps/${e}/settings.yaml`],
                    removed: [],
                    incomplete: false,
                    indexed: 3,
                    source: "release",
                    external: false,
                    number: 2,
                },
            ];
        };
        assert.deepEqual(untimed(await history(dev)), expectedHistory(dev, trees.dev));
        assert.deepEqual(untimed(await history(prod)), expectedHistory(prod, trees.prod));

        // Rolling one prefix back leaves the other's objects, versions and revision exactly as they were.
        for (const [target, other, v1] of [[dev, prod, trees.dev[0]], [prod, dev, trees.prod[0]]] as const) {
            const otherVersions = await moto.versions("fleet", other.prefix);
            const otherRevision = await revision(other);
            const rolled = await bucketops("rollback", target.url, ...endpoint, "--to", environmentRevision(target.env, target.prefix, v1));
            assert.equal(rolled.code, 0, rolled.err);
            assert.match(rolled.out, /^plan: 2 to restore, 0 to delete, 2 unchanged$/m);
            assert.equal(await revision(target), environmentRevision(target.env, target.prefix, v1));
            assert.deepEqual(await moto.contents("fleet", target.prefix), prefixed(target.prefix, v1));
            assert.deepEqual(await moto.versions("fleet", other.prefix), otherVersions);
            assert.equal(await revision(other), otherRevision);
        }
        assert.equal((await moto.versions("fleet", ".sourceignore")).length, 1);
    });

    it("--from-stack-outputs with environments picks the credentials by the URL's prefix, or names the environments", async () => {
        const outputs = path.join(writeTree({}), "infra.json");
        const environments = {
            dev: { prefix: "dev/", writerAccessKeyId: "AKIDDEV", writerSecretAccessKey: "d" },
            prod: { prefix: "teams/a/prod/", writerAccessKeyId: "AKIDPROD", writerSecretAccessKey: "p" },
        };
        writeTree({ "infra.json": JSON.stringify({ provider: "aws", endpoint: moto.endpoint, environmentPrefixes: { dev: "dev/", prod: "teams/a/prod/" }, environments }) }, path.dirname(outputs));
        const known = "dev (dev/), prod (teams/a/prod/). Name an environment's prefix in the URL (s3://<bucket>/<prefix>)";
        for (const [url, prefix] of [["s3://fleet/teams/a", "teams/a"], ["s3://fleet", ""], ["s3://fleet/dev2/", "dev2/"]]) {
            const run = await bucketops("revision", url, "--from-stack-outputs", outputs);
            assert.equal(run.code, 2);
            assert.equal(run.err, `bucketops: the stack outputs hold credentials per environment; prefix '${prefix}' is in none of: ${known}`);
        }
        const inDev = await bucketops("revision", "s3://fleet/dev", "--from-stack-outputs", outputs);
        assert.equal(inDev.code, 0, inDev.err);
        assert.equal(inDev.out, (await bucketops("revision", "s3://fleet/dev", ...endpoint)).out);
    });

    it("history of a prefix uses the current root .sourceignore when listing its versions is refused (AWS: s3:prefix)", async () => {
        // moto ignores the s3:prefix condition, so this is AWS's answer to a prefix-scoped writer, played by a stub store.
        const at = (second: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, second));
        const version = (key: string, versionId: string, second: number, latest: boolean): ObjectVersion =>
            ({ key, versionId, etag: md5(versionId), size: 1, md5: md5(versionId), lastModified: at(second), deleteMarker: false, latest });
        const requests: string[] = [];
        const store = {
            url: parseBucketUrl("s3://fleet/dev/"),
            description: "s3://fleet",
            versioningEnabled: async () => true,
            listVersions: async (prefix: string) => {
                requests.push(`listVersions ${prefix}`);
                if (prefix !== "dev/") throw accessDenied(`list the versions under '${prefix}'`, "s3://fleet", "AccessDenied: Access Denied", "");
                return [version("dev/a.yaml", "a1", 0, false), version("dev/README.md", "r1", 0, true), version("dev/a.yaml", "a2", 10, true)];
            },
            get: async (key: string, versionId?: string) => {
                requests.push(`get ${key}${versionId ? ` ${versionId}` : ""}`);
                return key === ".sourceignore" && !versionId ? Buffer.from("*.md\n") : undefined;
            },
        } as unknown as ObjectStore;
        const notes: string[] = [];
        const states = await loadHistory(store, undefined, (line) => notes.push(line));
        assert.deepEqual(notes, [
            "note: these credentials may not read past versions of the root .sourceignore (a GCS environment identity reads only its current content): every state's revision uses the current one",
        ]);
        assert.deepEqual(requests.sort(), ["get .sourceignore", "listVersions .sourceignore", "listVersions dev/"]);
        assert.deepEqual(historyReport(states, false), [
            `inferred  2026-11-23T12:00:00.000Z  ${sha256(`dev/a.yaml ${md5("a1")}\n`)}  2 object(s)`,
            "    + dev/README.md",
            "    + dev/a.yaml",
            `inferred  2026-11-23T12:00:10.000Z  ${sha256(`dev/a.yaml ${md5("a2")}\n`)}  2 object(s)  (current)`,
            "    ~ dev/a.yaml",
        ]);
    });
});
