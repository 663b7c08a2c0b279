import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { main } from "../../src/cli/main.ts";
import { bucketops, printedRevision, revisionOf, states, type Run } from "./helpers/cli.ts";
import { configMap, prefixed, writeTree } from "../support/trees.ts";
import { apart, Moto } from "../support/moto.ts";

/** bucketops with a terminal that answers `answer` to a question, and the questions it was asked. */
async function answering(answer: string, ...args: string[]): Promise<Run & { questions: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const questions: string[] = [];
    const code = await main(args, {
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        ask: async (question) => {
            questions.push(question);
            return answer;
        },
    });
    return { code, out: out.join("\n"), err: err.join("\n"), questions };
}

/**
 * `bucketops purge` on moto_server, which keeps versions and delete markers as S3 does and answers DeleteObject with
 * a VersionId by deleting that version for good (S3's behaviour, also for a delete marker).
 */
describe("bucketops purge: every version of a leaked key, gone for good (moto_server)", () => {
    let moto: Moto;
    const url = "s3://leaks/prod";
    const endpoint = () => ["--endpoint", moto.endpoint];
    const app = { "app.yaml": configMap("app", "v1") };
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("leaks");
        // secret.env pushed twice, then removed from the tree: two versions and a delete marker.
        for (const tree of [{ ...app, "secret.env": "TOKEN=one\n" }, { ...app, "secret.env": "TOKEN=two\n" }, app]) {
            const pushed = await apart(() => bucketops("push", writeTree(tree), url, ...endpoint()));
            assert.equal(pushed.code, 0, pushed.err);
        }
    });
    after(() => moto?.stop());

    const versionsOf = async (key: string) => (await moto.versions("leaks", key)).filter((line) => line.startsWith(`${key} `));

    it("asks first: refused without a terminal and without --yes, and when not confirmed; nothing is deleted", async () => {
        const before = await moto.versions("leaks", "prod/");
        const noTerminal = await bucketops("purge", url, "secret.env", ...endpoint());
        assert.equal(noTerminal.code, 2);
        assert.equal(noTerminal.err, "bucketops: purge deletes history for good and asks first: no terminal to ask on, so nothing was deleted. Pass --yes in a script");
        const declined = await answering("yes", "purge", url, "secret.env", ...endpoint());
        assert.equal(declined.code, 2);
        assert.deepEqual(declined.questions, ["Delete these 3 version(s) for good? This cannot be undone. Type 'purge' to confirm: "]);
        assert.equal(declined.err, "bucketops: not confirmed: nothing was deleted");
        assert.match(declined.out, /^ {2}prod\/secret\.env: 2 version\(s\), 1 delete marker\(s\)$/m);
        assert.deepEqual(await moto.versions("leaks", "prod/"), before);

        const unknown = await bucketops("purge", url, "nothing.env", "--yes", ...endpoint());
        assert.equal(unknown.code, 2);
        assert.equal(unknown.err, `bucketops: no version of prod/nothing.env in s3://leaks at ${moto.endpoint}: nothing was deleted (keys are relative to the URL's prefix 'prod/')`);
        const record = await bucketops("purge", url, ".bucketops-release", "--yes", ...endpoint());
        assert.equal(record.code, 2);
        assert.equal(record.err, "bucketops: '.bucketops-release' is bucketops' lease or release record: purge takes the keys of the tree's objects");
        assert.deepEqual(await moto.versions("leaks", "prod/"), before);
    });

    it("deletes every version and delete marker of the key, keeps the others, records the purge, and says to rotate", async () => {
        const others = (await moto.versions("leaks", "prod/")).filter((line) => !line.startsWith("prod/secret.env "));
        const purged = await apart(() => answering("purge", "purge", url, "secret.env", ...endpoint()));
        assert.equal(purged.code, 0, purged.err);
        assert.deepEqual(await versionsOf("prod/secret.env"), []);
        // Only the release record gained a version (the purge's) and the lease came and went.
        const now = await moto.versions("leaks", "prod/");
        assert.deepEqual(now.filter((line) => !/^prod\/\.bucketops-(release|lock) /.test(line)), others.filter((line) => !/^prod\/\.bucketops-(release|lock) /.test(line)));
        assert.match(purged.out, /^rotate the credential now: /m);
        assert.match(purged.out, /^purged 3 version\(s\) of 1 key\(s\); Flux revision \(Bucket spec\.prefix 'prod\/'\): sha256:/m);

        const history = states(await bucketops("history", url, "--json", ...endpoint()));
        // The purge is a release of its own (the state it left, numbered), naming the key and never its content.
        const purge = history.at(-1)!;
        assert.deepEqual([purge.source, purge.release?.command, purge.removed, purge.release?.message], ["release", "purge", ["prod/secret.env"], "purged every version of prod/secret.env"]);
        // The releases that held the key say so: they can no longer be restored exactly.
        const held = history.filter((state) => (state as { purged?: string[] }).purged);
        assert.ok(held.length > 0 && held.every((state) => (state as { purged?: string[] }).purged!.includes("prod/secret.env")), JSON.stringify(history));
        const text = (await bucketops("history", url, ...endpoint())).out;
        assert.match(text, /^ {4}purge by access key \S+ \(\S+\): purged every version of prod\/secret\.env$/m);
        assert.match(text, /^ {4}x prod\/secret\.env \(every version deleted\)$/m);
        assert.match(text, /^ {4}purged since: prod\/secret\.env \(this release can no longer be restored exactly\)$/m);
        const refused = await bucketops("rollback", url, "--to", String(held[0].number), ...endpoint());
        assert.equal(refused.code, 2);
        assert.match(refused.err, /held prod\/secret\.env, whose version was purged since: it cannot be restored\. Nothing was changed/);
        assert.doesNotMatch(text + JSON.stringify(history), /TOKEN=/);
    });

    it("a key that is current goes too, and Flux's revision is the prefix's without it", async () => {
        const tree = { ...app, "leak.yaml": configMap("leak", "v1") };
        assert.equal((await apart(() => bucketops("push", writeTree(tree), url, ...endpoint()))).code, 0);
        const purged = await apart(() => bucketops("purge", url, "prod/leak.yaml", "--yes", ...endpoint()));
        assert.equal(purged.code, 0, purged.err);
        assert.match(purged.out, /^ {2}prod\/leak\.yaml: 1 version\(s\), 0 delete marker\(s\), current: Flux's next fetch will not find it$/m);
        assert.deepEqual(await versionsOf("prod/leak.yaml"), []);
        assert.equal(printedRevision(purged), revisionOf(prefixed("prod/", app)));
        assert.equal((await bucketops("revision", url, ...endpoint())).out, revisionOf(prefixed("prod/", app)));
    });
});
