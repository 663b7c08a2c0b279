import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { FluxBucket } from "../../../components/gcp/index.ts";
import type { OfflineRun } from "../../../src/offline/engine.ts";
import { ofType, only, runComponents, valueOf } from "../../support/offline.ts";

describe("gcp FluxBucket", () => {
    let run: OfflineRun;
    let bucket: FluxBucket;
    before(async () => {
        run = await runComponents(() => {
            bucket = new FluxBucket("manifests", { project: "acme-prod", location: "EU", bucketName: "acme-manifests", noncurrentVersionDays: 21 });
        });
    });

    test("creates a private, versioned bucket with uniform access and a noncurrent-version lifecycle", () => {
        const { inputs } = only(run, "gcp:storage/bucket:Bucket", "manifests");
        assert.equal(inputs.name, "acme-manifests");
        assert.equal(inputs.project, "acme-prod");
        assert.equal(inputs.location, "EU");
        assert.deepEqual(inputs.versioning, { enabled: true });
        assert.equal(inputs.uniformBucketLevelAccess, true);
        assert.equal(inputs.publicAccessPrevention, "enforced");
        assert.deepEqual(inputs.lifecycleRules, [{ action: { type: "Delete" }, condition: { withState: "ARCHIVED", daysSinceNoncurrentTime: 21 } }]);
    });

    test("gives Flux buckets.get, objects.get and objects.list, and the writer no more than it needs", () => {
        assert.deepEqual(only(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "manifests-reader").inputs.permissions, [
            "storage.buckets.get",
            "storage.objects.get",
            "storage.objects.list",
        ]);
        assert.deepEqual(only(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "manifests-writer").inputs.permissions, [
            "storage.buckets.get",
            "storage.objects.create",
            "storage.objects.delete",
            "storage.objects.get",
            "storage.objects.list",
        ]);
    });

    test("grants each role on this bucket only, to its own service account", () => {
        const bindings = ofType(run, "gcp:storage/bucketIAMMember:BucketIAMMember");
        assert.equal(bindings.length, 2);
        assert.equal(ofType(run, "gcp:projects/iAMMember:IAMMember").length, 0);
        const reader = only(run, "gcp:storage/bucketIAMMember:BucketIAMMember", "manifests-reader").inputs;
        const account = only(run, "gcp:serviceaccount/account:Account", "manifests-reader").inputs;
        const role = only(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "manifests-reader").inputs;
        assert.equal(reader.bucket, "acme-manifests");
        assert.equal(reader.role, `projects/acme-prod/roles/${role.roleId}`);
        assert.equal(reader.member, `serviceAccount:${account.accountId}@acme-prod.iam.gserviceaccount.com`);
        assert.match(account.accountId, /^fluxbucket-reader-[0-9a-f]{8}$/);
        assert.match(role.roleId, /^fluxbucket\.reader\.[0-9a-f]{8}$/);
        assert.ok(account.accountId.length <= 30);
    });

    test("creates the key after the grant and hands on its JSON, decoded, as a secret", async () => {
        const key = only(run, "gcp:serviceaccount/key:Key", "manifests-reader");
        assert.ok(key.dependencies.includes(only(run, "gcp:storage/bucketIAMMember:BucketIAMMember", "manifests-reader").urn));
        const json = await valueOf<string>(bucket.reader!.serviceAccountKey!);
        assert.equal(JSON.parse(json).type, "service_account");
        assert.equal(await pulumi.isSecret(bucket.reader!.serviceAccountKey!), true);
    });

    test("points Flux at storage.googleapis.com", async () => {
        assert.equal(await valueOf(bucket.endpoint), "storage.googleapis.com");
    });
});
