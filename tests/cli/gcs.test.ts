import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { applicationDefaultIdentity, GcsStore } from "../../src/cli/store/gcs.ts";
import { parseBucketUrl } from "../../src/cli/url.ts";
import { bucketops, printedRevision, sha256 } from "./helpers/cli.ts";
import { manifestTree, writeTree } from "../support/trees.ts";
import { promotableTree } from "./helpers/environments.ts";
import { FakeGcs } from "./helpers/gcs.ts";

// No GCS server runs here: these tests drive @google-cloud/storage against a small local stand-in
// for the JSON API (tests/cli/helpers/gcs.ts), so they check bucketops' GCS code paths, not GCS.
describe("bucketops on gs:// through @google-cloud/storage (local JSON API stand-in)", () => {
    let gcs: FakeGcs;
    before(async () => {
        gcs = await FakeGcs.start();
        gcs.createBucket("gcs-bucket");
        gcs.createBucket("gcs-unversioned", false);
    });
    after(() => gcs?.close());

    /** Flux's GCS revision: the objects' JSON API etags, not their MD5s. */
    function revisionFromEtags(bucket: string): string {
        const keys = Object.keys(gcs.contents(bucket)).filter((k) => k !== ".sourceignore").sort();
        return sha256(keys.map((key) => `${key} ${gcs.etag(bucket, key)}\n`).join(""));
    }

    it("pushes, skips unchanged objects by MD5, prunes, and hashes GCS etags", async () => {
        const endpoint = ["--endpoint", gcs.endpoint];
        const v1 = manifestTree(["a", "b"], "v1");
        const dir = writeTree(v1);
        const first = await bucketops("push", dir, "gs://gcs-bucket", ...endpoint);
        assert.equal(first.code, 0, first.err);
        assert.deepEqual(gcs.contents("gcs-bucket"), v1);
        assert.equal(printedRevision(first), revisionFromEtags("gcs-bucket"));

        gcs.passTime(5000);
        const v2 = { ...manifestTree(["a"], "v2"), "a.yaml": v1["a.yaml"] };
        writeTree(v2, dir);
        const second = await bucketops("push", dir, "gs://gcs-bucket", ...endpoint);
        assert.equal(second.code, 0, second.err);
        assert.match(second.out, /1 to upload \(0 new, 1 changed\), 1 unchanged, 1 to delete/);
        assert.deepEqual(gcs.contents("gcs-bucket"), v2);
        const revision = await bucketops("revision", "gs://gcs-bucket", ...endpoint);
        assert.equal(revision.out, revisionFromEtags("gcs-bucket"));
        assert.equal(revision.out, printedRevision(second));
    });

    it("rolls back content exactly; the revision is new because GCS etags change with each copy", async () => {
        const endpoint = ["--endpoint", gcs.endpoint];
        const history = await bucketops("history", "gs://gcs-bucket", ...endpoint, "--json");
        assert.equal(history.code, 0, history.err);
        const states = JSON.parse(history.out) as { revision: string; added: string[]; removed: string[] }[];
        assert.equal(states.length, 2, history.out);
        const [first] = states;
        assert.deepEqual(first.added, ["a.yaml", "b.yaml", "kustomization.yaml"]);

        gcs.passTime(5000);
        const run = await bucketops("rollback", "gs://gcs-bucket", ...endpoint, "--to", first.revision);
        assert.equal(run.code, 0, run.err);
        assert.deepEqual(gcs.contents("gcs-bucket"), manifestTree(["a", "b"], "v1"));
        assert.match(run.out, /content of .* restored exactly \(MD5 checked\)/);
        assert.match(run.out, /a new one, because GCS gives every copy a new etag/);
        assert.notEqual(revisionFromEtags("gcs-bucket"), first.revision);
    });

    it("refuses to overwrite or restore over an object another writer changed (ifGenerationMatch)", async () => {
        const store = new GcsStore(parseBucketUrl("gs://gcs-bucket"), { endpoint: gcs.endpoint });
        const [listed] = await store.list("a.yaml");
        const theirs = Buffer.from("someone else");
        const md5 = createHash("md5").update(theirs).digest();
        await store.put("a.yaml", theirs, { md5, contentType: "text/plain" });
        const [oldVersion] = (await store.listVersions("a.yaml")).filter((v) => v.versionId === listed.generation);
        await assert.rejects(
            store.put("a.yaml", Buffer.from("ours"), { md5: Buffer.alloc(16), contentType: "text/plain", expected: listed }),
            /concurrent change detected: a\.yaml/,
        );
        await assert.rejects(store.restore(oldVersion, listed), /concurrent change detected: a\.yaml/);
        assert.equal(gcs.contents("gcs-bucket")["a.yaml"], "someone else");
    });

    it("purge deletes every generation of a key, live and noncurrent (objects.delete with generation), and records it", async () => {
        const endpoint = ["--endpoint", gcs.endpoint, "--insecure"];
        const app = manifestTree(["a"], "v1");
        for (const tree of [{ ...app, "secret.env": "TOKEN=one\n" }, { ...app, "secret.env": "TOKEN=two\n" }]) {
            gcs.passTime(2000);
            assert.equal((await bucketops("push", writeTree(tree), "gs://gcs-bucket/leak", ...endpoint)).code, 0);
        }
        assert.equal(gcs.generations("gcs-bucket", "leak/secret.env").length, 2);
        gcs.passTime(2000);
        const purged = await bucketops("purge", "gs://gcs-bucket/leak", "secret.env", "--yes", ...endpoint);
        assert.equal(purged.code, 0, purged.err);
        assert.deepEqual(gcs.generations("gcs-bucket", "leak/secret.env"), []);
        assert.equal(gcs.generations("gcs-bucket", "leak/a.yaml").length, 1);
        const history = JSON.parse((await bucketops("history", "gs://gcs-bucket/leak", "--json", ...endpoint)).out) as { release?: { command: string; removed: string[] } }[];
        assert.deepEqual(history.filter((state) => state.release?.command === "purge").map((state) => state.release!.removed), [["leak/secret.env"]]);
    });

    it("promotes a release between prefixes: rewrites of its generations to the target's names, content checked by MD5", async () => {
        gcs.createBucket("gcs-envs");
        const endpoint = ["--endpoint", gcs.endpoint];
        const tree = promotableTree("gcs");
        const pushed = await bucketops("push", writeTree(tree), "gs://gcs-envs/staging/", ...endpoint, "--root-path", "./staging/clusters/staging", "--substitute-prefix");
        assert.equal(pushed.code, 0, pushed.err);
        const promoted = await bucketops("promote", "gs://gcs-envs/staging/", "gs://gcs-envs/prod/", ...endpoint, "--root-path", "./prod/clusters/prod", "--substitute-prefix");
        assert.equal(promoted.code, 0, promoted.err);
        assert.match(promoted.out, /\(content checked by MD5: GCS gives every copy a new etag\)/);
        const contents = gcs.contents("gcs-envs");
        for (const [key, body] of Object.entries(tree)) assert.equal(contents[`prod/${key}`], body, key);
        const history = JSON.parse((await bucketops("history", "gs://gcs-envs/prod/", ...endpoint, "--json")).out);
        assert.deepEqual([history.length, history[0].release.command, history[0].release.source.number], [1, "promote", 1]);
    });

    it("reports a missing bucket and an unversioned one", async () => {
        const missing = await bucketops("revision", "gs://no-such-gcs-bucket", "--endpoint", gcs.endpoint);
        assert.equal(missing.code, 1);
        assert.match(missing.err, /^bucketops: bucket 'no-such-gcs-bucket' does not exist/);
        const off = await bucketops("history", "gs://gcs-unversioned", "--endpoint", gcs.endpoint);
        assert.equal(off.code, 1);
        assert.match(off.err, /versioning is not enabled on gs:\/\/gcs-unversioned/);
    });
});

describe("the GCS identity a release record names, from Application Default Credentials without a request", () => {
    it("a key file's client_email, the account an external_account file impersonates (google-github-actions/auth v3), else nothing", () => {
        const file = (content: object) => {
            const dir = writeTree({ "credentials.json": JSON.stringify(content) });
            return `${dir}/credentials.json`;
        };
        assert.equal(applicationDefaultIdentity(file({ type: "service_account", client_email: "writer@acme.iam.gserviceaccount.com" })), "writer@acme.iam.gserviceaccount.com");
        // The shape google-github-actions/auth v3.0.0 writes (src/client/workload_identity_federation.ts createCredentialsFile).
        const federated = {
            type: "external_account",
            audience: "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/fluxbucket-gh-1/providers/github",
            subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
            token_url: "https://sts.googleapis.com/v1/token",
            credential_source: { url: "https://token.actions.githubusercontent.com/?audience=x", headers: { Authorization: "Bearer x" }, format: { type: "json", subject_token_field_name: "value" } },
            service_account_impersonation_url:
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/fluxbucket-ci-writer-1a2b3c4d@acme.iam.gserviceaccount.com:generateAccessToken",
        };
        assert.equal(applicationDefaultIdentity(file(federated)), "fluxbucket-ci-writer-1a2b3c4d@acme.iam.gserviceaccount.com");
        const { service_account_impersonation_url: _direct, ...direct } = federated;
        assert.equal(applicationDefaultIdentity(file(direct)), undefined);
        assert.equal(applicationDefaultIdentity(undefined), undefined);
        assert.equal(applicationDefaultIdentity("/nonexistent/credentials.json"), undefined);
    });
});

describe("GcsStore.list: a long listing in ranges asked for at once (the JSON API stand-in's objects.list)", () => {
    let gcs: FakeGcs;
    const prefix = "ranges/";
    // Names past U+FFFF sort after U+FFFD by their bytes (as GCS sorts them) but before it in JavaScript's order.
    const names = [...Array.from({ length: 2_100 }, (_, i) => `${prefix}app-${String(Math.floor(i / 100)).padStart(3, "0")}/cm-${String(i % 100).padStart(2, "0")}.yaml`), `${prefix}app-010/\u{1F600}.yaml`, `${prefix}app-010/\uFFFD.yaml`];
    let reference: string[];
    before(async () => {
        gcs = await FakeGcs.start();
        gcs.createBucket("ranges");
        for (const name of names) gcs.put("ranges", name, "x");
        const store = new GcsStore(parseBucketUrl("gs://ranges"), { endpoint: gcs.endpoint });
        reference = (await store.list(prefix)).map((entry) => entry.key);
        assert.deepEqual(reference, [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    });
    after(() => gcs?.close());

    it("lists every name exactly once, in the bucket's order, whatever names were expected; 3 pages in one round trip when expected right", async () => {
        const cases: Record<string, string[] | undefined> = {
            exact: [...reference],
            "missing 300 the bucket has": reference.filter((_, i) => i % 7 !== 0),
            "with 500 the bucket does not have": [...reference, ...Array.from({ length: 500 }, (_, i) => `${prefix}app-005/new-${i}.yaml`)],
            "of another prefix": reference.map((key) => key.replace(prefix, "other/")),
        };
        for (const [name, likely] of Object.entries(cases)) {
            const store = new GcsStore(parseBucketUrl("gs://ranges"), { endpoint: gcs.endpoint });
            const before = gcs.lists;
            assert.deepEqual((await store.list(prefix, likely)).map((entry) => entry.key), reference, name);
            if (name === "exact") {
                assert.equal(gcs.lists - before, 3, "three ranges of up to 1,000 names, one page each");
                // Listed again from its own last listing.
                const again = gcs.lists;
                assert.deepEqual((await store.list(prefix)).map((entry) => entry.key), reference);
                assert.equal(gcs.lists - again, 3);
            }
        }
    });
});
