import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { LEASE_NAME, RELEASE_NAME } from "../../src/bucket/keys.ts";
import { ConcurrentChangeError } from "../../src/cli/errors.ts";
import { S3Store } from "../../src/cli/store/s3.ts";
import { parseBucketUrl } from "../../src/cli/url.ts";
import { bucketops } from "./helpers/cli.ts";
import { Moto, operationOf, type LoggedRequest } from "../support/moto.ts";
import { manifestTree, writeTree } from "../support/trees.ts";

/**
 * Issue 28: the requests of an everyday push, pinned. A push lists the prefix once before it decides (a push that
 * changes nothing writes nothing), takes the lease with a create-if-absent that its listing stands for, lists the
 * prefix again under the lease and plans from that; it lists a third time only to delete (the check before deletes).
 * Each line names the object or the request: `LIST`, `PUT <name>`, `GET <name>`, `DELETE <name>`, `versioning`.
 */
function named(requests: LoggedRequest[]): string[] {
    return requests.map((request) => {
        const operation = operationOf(request);
        if (operation === "LIST page") return "LIST";
        if (operation === "GET bucket?versioning") return "versioning";
        if (operation === "DeleteObjects") return "DeleteObjects";
        const name = decodeURIComponent(request.path.split("?")[0]).split("/").at(-1);
        return `${request.method} ${name}${request.status === 404 ? " (404)" : ""}`;
    });
}

const count = (lines: string[], line: string) => lines.filter((l) => l === line).length;

describe("the requests of a push (moto_server's access log)", () => {
    let moto: Moto;
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("requests");
    });
    after(() => moto?.stop());

    const push = async (dir: string, url: string) => {
        const { result, requests } = await moto.recordRequests(() => bucketops("push", dir, url, "--endpoint", moto.endpoint, "--skip-build"));
        assert.equal(result.code, 0, result.err);
        return named(requests);
    };

    it("a one-change re-push lists the prefix twice (before the lease, under it) and takes the lease in one request", async () => {
        const v1 = manifestTree(["a", "b", "c"], "v1");
        const dir = writeTree(v1);
        await push(dir, "s3://requests/one/");

        const unchanged = await push(dir, "s3://requests/one/");
        assert.deepEqual([...unchanged].sort(), ["GET .sourceignore (404)", "LIST"], "nothing changed: one listing, nothing written, versioning not asked");

        writeTree({ ...v1, "a.yaml": manifestTree(["a"], "v2")["a.yaml"] }, dir);
        const changed = await push(dir, "s3://requests/one/");
        assert.equal(count(changed, "LIST"), 2, changed.join(", "));
        // The record the release follows is read under the lease while the objects are written: in either order.
        const inOrder = changed.filter((line) => line !== "GET .sourceignore (404)" && line !== "versioning" && line !== `GET ${RELEASE_NAME}`);
        assert.deepEqual(
            inOrder,
            ["LIST", `PUT ${LEASE_NAME}`, "LIST", "PUT a.yaml", `PUT ${RELEASE_NAME}`, `DELETE ${LEASE_NAME}`],
            "the lease before the listing under it, the write after it, the record, then the lease let go",
        );
        const recordRead = changed.indexOf(`GET ${RELEASE_NAME}`);
        assert.ok(recordRead > changed.lastIndexOf("LIST") && recordRead < changed.indexOf(`PUT ${RELEASE_NAME}`), changed.join(", "));
        assert.ok(changed.indexOf("versioning") > changed.indexOf("LIST") && changed.indexOf("versioning") < changed.indexOf(`PUT ${LEASE_NAME}`), "versioning asked once the listing shows a change, before the lease");
        assert.equal(changed.length, 9);
    });

    it("a re-push that deletes lists a third time, after the writes and before the deletes", async () => {
        const dir = writeTree(manifestTree(["a", "b", "c"], "v1"));
        await push(dir, "s3://requests/prune/");
        const next = manifestTree(["a", "b"], "v2");
        const pruned = writeTree(next);
        const changed = await push(pruned, "s3://requests/prune/");
        // The record read (under the lease, while the objects are written) is left out: its place is not fixed.
        const relevant = changed.filter((line) => line !== "GET .sourceignore (404)" && line !== "versioning" && line !== `GET ${RELEASE_NAME}`);
        assert.deepEqual(relevant.slice(0, 3), ["LIST", `PUT ${LEASE_NAME}`, "LIST"]);
        assert.deepEqual(relevant.slice(-4), ["LIST", "DELETE c.yaml", `PUT ${RELEASE_NAME}`, `DELETE ${LEASE_NAME}`]);
        assert.equal(count(changed, "LIST"), 3, changed.join(", "));
    });

    it("a write conditional on an object that was deleted since its listing is a concurrent change (exit 4), not a failure", async () => {
        // S3 answers If-Match on a key with no current version 404 NoSuchKey (moto does as S3), not 412. A writer that
        // waited for the lease meets it when the holder lets go between the waiter's read and its takeover.
        await moto.put("requests", "gone/a.yaml", "a");
        const store = new S3Store(parseBucketUrl("s3://requests/gone/"), { endpoint: moto.endpoint });
        try {
            const [listed] = await store.list("gone/a.yaml");
            await moto.s3.send(new DeleteObjectCommand({ Bucket: "requests", Key: "gone/a.yaml" }));
            await assert.rejects(
                store.put("gone/a.yaml", Buffer.from("ours"), { md5: createHash("md5").update("ours").digest(), contentType: "application/yaml", expected: listed }),
                (error: unknown) => error instanceof ConcurrentChangeError && /concurrent change detected: gone\/a\.yaml/.test(error.message),
            );
        } finally {
            store.close();
        }
    });

    it("a lease found in the listing is read before it is taken over, as before", async () => {
        const dir = writeTree(manifestTree(["a"], "v1"));
        await push(dir, "s3://requests/held/");
        // An interrupted writer's lease (it let go part-way): the next push takes it over.
        await moto.put("requests", `held/${LEASE_NAME}`, JSON.stringify({ id: "x", holder: "ada@elsewhere (pid 1)", host: "elsewhere", pid: 1, command: "push", acquired: new Date().toISOString(), expires: new Date(Date.now() + 60_000).toISOString(), state: "interrupted" }));
        writeTree(manifestTree(["a"], "v2"), dir);
        const changed = await push(dir, "s3://requests/held/");
        const relevant = changed.filter((line) => line !== "GET .sourceignore (404)" && line !== "versioning" && line !== `GET ${RELEASE_NAME}`);
        const take = relevant.indexOf(`PUT ${LEASE_NAME}`);
        assert.ok(take > 0 && relevant.slice(0, take).includes(`GET ${LEASE_NAME}`), `the lease is read before it is taken over: ${changed.join(", ")}`);
        assert.deepEqual(relevant.slice(take + 1, take + 3), ["LIST", "PUT a.yaml"], "then the listing under the lease, then the write");
    });
});

describe("S3Store.list: the pages of a long listing asked for at once, from the keys the prefix is likely to hold (moto_server)", () => {
    // moto lists as S3 does (ListObjectsV2: keys in UTF-8 byte order, 1,000 a page, StartAfter exclusive); the reference
    // is the plain listing, one page after the other with continuation tokens.
    let moto: Moto;
    const prefix = "ranges/";
    // Keys past U+FFFF sort after U+FFFD in UTF-8 (and for S3) but before it in JavaScript's string order.
    const odd = [`${prefix}app-010/\u{1F600}.yaml`, `${prefix}app-010/\uFFFD.yaml`, `${prefix}app-010/é.yaml`, `${prefix}app-019/z.yaml`];
    let reference: string[];
    before(async () => {
        moto = await Moto.start();
        await moto.createBucket("ranges");
        await moto.fill("ranges", prefix, 2_100, (i) => `v${i}`);
        for (const key of odd) await moto.put("ranges", key, "odd");
        reference = Object.keys(await moto.md5s("ranges", prefix));
        assert.equal(reference.length, 2_104);
    });
    after(() => moto?.stop());

    const listed = async (likely: string[] | undefined) => {
        const store = new S3Store(parseBucketUrl(`s3://ranges/${prefix}`), { endpoint: moto.endpoint });
        const { result, requests } = await moto.recordRequests(() => store.list(prefix, likely));
        return { keys: result.map((entry) => entry.key), pages: requests.filter((request) => operationOf(request) === "LIST page").length, store };
    };

    it("lists every key exactly once, in the bucket's order, whatever keys were expected", async () => {
        const cases: Record<string, string[] | undefined> = {
            none: undefined,
            exact: [...reference],
            "in JavaScript's order": [...reference].sort(),
            "missing 300 the bucket has": reference.filter((_, i) => i % 7 !== 0),
            "with 500 the bucket does not have": [...reference, ...Array.from({ length: 500 }, (_, i) => `${prefix}app-005/new-${i}.yaml`)],
            "of another prefix": reference.map((key) => key.replace(prefix, "other/")),
            "only the last ones": reference.slice(-1_100),
        };
        for (const [name, likely] of Object.entries(cases)) {
            const { keys } = await listed(likely);
            assert.deepEqual(keys, reference, name);
        }
    });

    it("asks for the 3 pages of 2,104 expected keys at once, and lists again from its own last listing", async () => {
        const { pages, store } = await listed([...reference]);
        assert.equal(pages, 3);
        const { result, requests } = await moto.recordRequests(() => store.list(prefix));
        assert.deepEqual(result.map((entry) => entry.key), reference);
        assert.equal(requests.filter((request) => operationOf(request) === "LIST page").length, 3);
        // A prefix's first page holds 20 keys more than its range expects (here: bucketops' records) without another page.
        await moto.put("ranges", `${prefix}.bucketops-release`, "{}");
        const { keys, pages: again } = await listed([...reference]);
        assert.deepEqual(keys, [`${prefix}.bucketops-release`, ...reference]);
        assert.equal(again, 3);
    });
});
