import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ConfigError } from "../../stacks/config/errors.ts";
import { readInfraConfig } from "../../stacks/config/infra.ts";
import { ConfigReader } from "../../stacks/config/reader.ts";
import { pathInBucket } from "../../stacks/flux.ts";
import type { OfflineRun } from "../../src/offline/engine.ts";
import { asStackReference, ofType, only, runFlux, runInfra, waitsFor } from "../support/offline.ts";
import { ignoreMatcher, readPatterns } from "../../src/cli/sourceignore.ts";

const BUCKET_ARN = "arn:aws:s3:::acme-manifests";
const names = (count: number) => Array.from({ length: count }, (_, i) => `env-${i + 1}`);

/**
 * The exact policy an environment's identity must have: objects under its prefix, plus the root .sourceignore Flux
 * reads; key listing bucket-wide (HeadBucket needs it); version listing under its prefix. What these allow and deny
 * on the requests Flux and bucketops send is proven in tests/components/aws/policies.test.ts.
 */
function expectedPolicy(access: "read" | "write", prefix: string) {
    const write = access === "write";
    const statements = [
        { Sid: "Bucket", Effect: "Allow", Action: write ? ["s3:GetBucketVersioning", "s3:ListBucket"] : ["s3:ListBucket"], Resource: BUCKET_ARN },
        ...(write
            ? [
                  {
                      Sid: "ListPrefixVersions",
                      Effect: "Allow",
                      Action: ["s3:ListBucketVersions"],
                      Resource: BUCKET_ARN,
                      Condition: { StringLike: { "s3:prefix": [`${prefix}*`, ".sourceignore"] } },
                  },
              ]
            : []),
        {
            Sid: "Objects",
            Effect: "Allow",
            Action: write ? ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"] : ["s3:GetObject"],
            Resource: `${BUCKET_ARN}/${prefix}*`,
        },
        {
            Sid: "ReadSourceIgnore",
            Effect: "Allow",
            Action: write ? ["s3:GetObject", "s3:GetObjectVersion"] : ["s3:GetObject"],
            Resource: `${BUCKET_ARN}/.sourceignore`,
        },
    ];
    return { Version: "2012-10-17", Statement: statements };
}

for (const count of [1, 3, 100]) {
    describe(`aws infra stack with ${count} environment${count > 1 ? "s" : ""}`, () => {
        let run: OfflineRun;
        before(async () => {
            run = await runInfra({ provider: "aws", bucketName: "acme-manifests", environments: JSON.stringify(names(count)) });
        });

        test("scopes every reader and writer policy exactly to its environment's prefix", () => {
            const policies = ofType(run, "aws:iam/userPolicy:UserPolicy");
            assert.equal(policies.length, 2 * count);
            for (const name of names(count)) {
                assert.deepEqual(JSON.parse(only(run, "aws:iam/userPolicy:UserPolicy", `bucket-${name}-reader`).inputs.policy), expectedPolicy("read", `${name}/`));
                assert.deepEqual(JSON.parse(only(run, "aws:iam/userPolicy:UserPolicy", `bucket-${name}-writer`).inputs.policy), expectedPolicy("write", `${name}/`));
            }
        });

        test("creates no whole-bucket identity, and the root .sourceignore every environment's Flux reads", () => {
            assert.equal(ofType(run, "aws:iam/user:User").length, 2 * count);
            const sourceignore = only(run, "aws:s3/bucketObjectv2:BucketObjectv2");
            assert.equal(sourceignore.inputs.bucket, "acme-manifests");
            assert.equal(sourceignore.inputs.key, ".sourceignore");
            // Flux, matching as source-controller does, skips every environment's lease with it (and nothing else here).
            const ignored = ignoreMatcher(readPatterns(sourceignore.inputs.content));
            assert.deepEqual(["dev/.bucketops-lock", "teams/a/.bucketops-lock", "dev/app.yaml", "README.md"].filter(ignored), ["dev/.bucketops-lock", "teams/a/.bucketops-lock"]);
            // written into a versioned bucket, after its last configuration call
            assert.ok(waitsFor(run, sourceignore, only(run, "aws:s3/bucketVersioning:BucketVersioning")));
            assert.ok(waitsFor(run, sourceignore, only(run, "aws:s3/bucketPolicy:BucketPolicy")));
        });

        test("exports the prefixes in the clear and the credentials as one secret", () => {
            assert.deepEqual(run.outputs.environmentPrefixes, Object.fromEntries(names(count).map((name) => [name, `${name}/`])));
            assert.ok(run.secretOutputs.includes("environments"));
            assert.ok(!run.secretOutputs.includes("environmentPrefixes"));
            assert.equal(run.outputs.readerAccessKeyId, undefined);
            const environments = run.outputs.environments as Record<string, Record<string, string>>;
            assert.deepEqual(Object.keys(environments), names(count));
            assert.deepEqual(Object.keys(environments[names(count)[0]]).sort(), [
                "prefix",
                "readerAccessKeyId",
                "readerSecretAccessKey",
                "writerAccessKeyId",
                "writerSecretAccessKey",
            ]);
        });
    });
}

describe("gcp infra stack with environments", () => {
    let run: OfflineRun;
    before(async () => {
        run = await runInfra({ provider: "gcp", gcpProject: "acme-prod", bucketName: "acme-manifests", environments: '["dev","prod=teams/a/prod"]' });
    });

    test("gives each environment a managed folder on its prefix", () => {
        assert.deepEqual(
            ofType(run, "gcp:storage/managedFolder:ManagedFolder").map((folder) => folder.inputs),
            [
                { bucket: "acme-manifests", name: "dev/", forceDestroy: false },
                { bucket: "acme-manifests", name: "teams/a/prod/", forceDestroy: false },
            ],
        );
    });

    test("forceDestroy reaches the managed folders too, so destroy gets past non-empty folders to the bucket", async () => {
        // The Storage API deletes a managed folder that holds objects only with allowNonEmpty, which the provider
        // sends for forceDestroy; the bucket's own forceDestroy does not reach its folders.
        const forced = await runInfra({ provider: "gcp", gcpProject: "acme-prod", environments: '["dev","prod=teams/a/prod"]', forceDestroy: "true" });
        assert.equal(only(forced, "gcp:storage/bucket:Bucket").inputs.forceDestroy, true);
        assert.deepEqual(ofType(forced, "gcp:storage/managedFolder:ManagedFolder").map((folder) => folder.inputs.forceDestroy), [true, true]);
    });

    test("grants the object role on the environment's folder only, and just buckets.get on the bucket", () => {
        const reader = only(run, "gcp:storage/managedFolderIamMember:ManagedFolderIamMember", "bucket-prod-reader").inputs;
        const account = only(run, "gcp:serviceaccount/account:Account", "bucket-prod-reader").inputs;
        const member = `serviceAccount:${account.accountId}@acme-prod.iam.gserviceaccount.com`;
        assert.equal(reader.managedFolder, "teams/a/prod/");
        assert.equal(reader.member, member);
        const readerRole = only(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "bucket-reader").inputs;
        assert.equal(reader.role, `projects/acme-prod/roles/${readerRole.roleId}`);
        assert.deepEqual(readerRole.permissions, ["storage.objects.get", "storage.objects.list"]);

        const bucketRole = only(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "bucket-bucket").inputs;
        assert.deepEqual(bucketRole.permissions, ["storage.buckets.get"]);
        const bucketGrant = only(run, "gcp:storage/bucketIAMMember:BucketIAMMember", "bucket-prod-reader-bucket").inputs;
        assert.deepEqual(bucketGrant, { bucket: "acme-manifests", role: `projects/acme-prod/roles/${bucketRole.roleId}`, member });
    });

    test("lets each identity read the root .sourceignore and no other object at bucket level", () => {
        const grant = only(run, "gcp:storage/bucketIAMMember:BucketIAMMember", "bucket-dev-writer-sourceignore").inputs;
        assert.equal(grant.role, "roles/storage.objectViewer");
        assert.deepEqual(grant.condition, {
            title: "root .sourceignore only",
            expression: 'resource.name == "projects/_/buckets/acme-manifests/objects/.sourceignore"',
        });
        assert.equal(only(run, "gcp:storage/bucketObject:BucketObject").inputs.name, ".sourceignore");
    });

    test("keeps custom roles per bucket, not per environment, and account ids per environment", () => {
        assert.equal(ofType(run, "gcp:projects/iAMCustomRole:IAMCustomRole").length, 3);
        const ids = ofType(run, "gcp:serviceaccount/account:Account").map((account) => account.inputs.accountId);
        assert.equal(new Set(ids).size, 4);
        assert.ok(ids.every((id: string) => /^fluxbucket-(reader|writer)-[0-9a-f]{8}$/.test(id)));
    });
});

describe("flux stack for one environment", () => {
    let infra: OfflineRun;
    before(async () => {
        infra = await runInfra({ provider: "aws", bucketName: "acme-manifests", environments: '["staging","prod=teams/a/prod"]' });
    });

    test("syncs the environment's prefix with its reader and a path inside the prefix", async () => {
        const run = await runFlux({ environment: "prod" }, asStackReference(infra), { stack: "prod-flux", infraStack: "organization/flux-bucket/prod" });
        const spec = only(run, "kubernetes:source.toolkit.fluxcd.io/v1:Bucket").inputs.spec;
        assert.equal(spec.prefix, "teams/a/prod/");
        assert.equal(only(run, "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization").inputs.spec.path, "./teams/a/prod/clusters/prod");
        const environments = infra.outputs.environments as Record<string, Record<string, string>>;
        assert.deepEqual(only(run, "kubernetes:core/v1:Secret").inputs.stringData, {
            accesskey: environments.prod.readerAccessKeyId,
            secretkey: environments.prod.readerSecretAccessKey,
        });
        assert.equal(run.outputs.environment, "prod");
        assert.equal(run.outputs.prefix, "teams/a/prod/", "where npm run up pushes this environment's tree");
    });

    test("installs on the cluster given by its own kubeconfig", async () => {
        const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: [{name: staging}]\n";
        const run = await runFlux({ environment: "staging", kubeconfig, kustomizationPath: "./clusters/eu" }, asStackReference(infra), {
            stack: "staging-flux",
            infraStack: "organization/flux-bucket/staging",
        });
        assert.equal(only(run, "pulumi:providers:kubernetes").inputs.kubeconfig, kubeconfig);
        assert.equal(only(run, "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization").inputs.spec.path, "./staging/clusters/eu");
    });

    test("an unknown environment is named with the ones there are", async () => {
        await assert.rejects(runFlux({ environment: "qa" }, asStackReference(infra)), {
            message: 'Invalid stack configuration:\n  - Pulumi.dev-flux.yaml: flux-bucket:infraStack "organization/flux-bucket/dev" has no environment "qa"; allowed: prod, staging',
        });
    });

    test("a split bucket needs an environment", async () => {
        await assert.rejects(runFlux({}, asStackReference(infra)), {
            message:
                'Invalid stack configuration:\n  - Pulumi.dev-flux.yaml: flux-bucket:infraStack "organization/flux-bucket/dev" splits its bucket into environments; set flux-bucket:environment to one of prod, staging',
        });
    });

    test("an environment on a bucket without environments", async () => {
        const whole = await runInfra({ provider: "aws" });
        await assert.rejects(runFlux({ environment: "prod" }, asStackReference(whole)), {
            message:
                "Invalid stack configuration:\n  - Pulumi.dev-flux.yaml: flux-bucket:infraStack \"organization/flux-bucket/dev\" has no environments, so flux-bucket:environment \"prod\" cannot be synced; unset it or list it in the infra stack's flux-bucket:environments",
        });
    });
});

describe("environments config", () => {
    const problems = (values: Record<string, string>) => {
        try {
            readInfraConfig(new ConfigReader(values));
        } catch (error) {
            return (error as ConfigError).problems;
        }
        return [];
    };

    test("reads names and name=prefix entries, normalizing prefixes", () => {
        const config = readInfraConfig(new ConfigReader({ environments: '["dev","prod=teams/a/prod/"]' }));
        assert.deepEqual(config.storage.provider === "aws" && config.storage.environments, [
            { name: "dev", prefix: "dev/" },
            { name: "prod", prefix: "teams/a/prod/" },
        ]);
    });

    test("rejects nested prefixes, duplicate names, bad names and non-lists", () => {
        assert.deepEqual(problems({ environments: '["a=teams/a","b=teams/a/b"]' }), [
            "flux-bucket:environments gives a the prefix teams/a/ and b the prefix teams/a/b/; one contains the other, so allowed: prefixes that do not nest",
        ]);
        assert.deepEqual(problems({ environments: '["dev","dev=other"]' }), ['flux-bucket:environments names "dev" twice; each environment needs its own name']);
        assert.deepEqual(problems({ environments: '["Prod"]' }), [
            'flux-bucket:environments entry "Prod" has the name "Prod"; allowed: lowercase letters, digits and hyphens, at most 63',
        ]);
        assert.deepEqual(problems({ environments: "dev,prod" }), ["flux-bucket:environments is dev,prod; allowed: a list of strings"]);
        assert.deepEqual(problems({ environments: "[]" }), ["flux-bucket:environments is empty; list at least one environment, or unset it for a single one"]);
    });

    test("promotions: to=from of two different environments, only with environments", () => {
        const config = readInfraConfig(new ConfigReader({ environments: '["dev","staging","prod"]', promotions: '["staging=dev","prod=staging"]' }));
        assert.deepEqual(config.storage.provider === "aws" && config.storage.environments, [
            { name: "dev", prefix: "dev/" },
            { name: "staging", prefix: "staging/", promotesFrom: ["dev"] },
            { name: "prod", prefix: "prod/", promotesFrom: ["staging"] },
        ]);
        const wrong = (entry: string) =>
            `flux-bucket:promotions entry "${entry}" is not <environment>=<environment it promotes from> of two different environments; allowed names: dev, prod`;
        assert.deepEqual(problems({ environments: '["dev","prod"]', promotions: '["prod=qa","prod","dev=dev"]' }), [wrong("prod=qa"), wrong("prod"), wrong("dev=dev")]);
        assert.deepEqual(problems({ promotions: '["prod=dev"]' }), ["flux-bucket:promotions needs environments: a promotion copies one environment's release to another"]);
    });

    test("promotions: aws gives the writer read of the source's objects and version listings, and nothing to write there", async () => {
        const run = await runInfra({ provider: "aws", bucketName: "acme-manifests", environments: '["staging","prod"]', promotions: '["prod=staging"]' });
        const policy = (name: string) => JSON.parse(only(run, "aws:iam/userPolicy:UserPolicy", name).inputs.policy);
        const prod = policy("bucket-prod-writer");
        assert.deepEqual(prod.Statement.find((s: { Sid: string }) => s.Sid === "PromoteFrom"), {
            Sid: "PromoteFrom",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:GetObjectVersion"],
            Resource: [`${BUCKET_ARN}/staging/*`],
        });
        assert.deepEqual(prod.Statement.find((s: { Sid: string }) => s.Sid === "ListPrefixVersions").Condition, { StringLike: { "s3:prefix": ["prod/*", "staging/*", ".sourceignore"] } });
        // Readers, and the environment promoted from, are as without promotions.
        assert.deepEqual(policy("bucket-prod-reader"), expectedPolicy("read", "prod/"));
        assert.deepEqual(policy("bucket-staging-writer"), expectedPolicy("write", "staging/"));
    });

    test("promotions: gcp grants the writer the reader's role on the source's managed folder", async () => {
        const run = await runInfra({ provider: "gcp", gcpProject: "acme-prod", bucketName: "acme-manifests", environments: '["staging","prod"]', promotions: '["prod=staging"]' });
        const grant = only(run, "gcp:storage/managedFolderIamMember:ManagedFolderIamMember", "bucket-prod-writer-reads-staging").inputs;
        const writer = only(run, "gcp:serviceaccount/account:Account", "bucket-prod-writer").inputs;
        const readerRole = only(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "bucket-reader").inputs;
        assert.deepEqual(grant, {
            bucket: "acme-manifests",
            managedFolder: "staging/",
            role: `projects/acme-prod/roles/${readerRole.roleId}`,
            member: `serviceAccount:${writer.accountId}@acme-prod.iam.gserviceaccount.com`,
        });
        assert.equal(ofType(run, "gcp:storage/managedFolderIamMember:ManagedFolderIamMember").filter((r) => r.name.includes("-reads-")).length, 1);
    });

    test("needs a provisioned bucket", () => {
        assert.ok(
            problems({ provider: "generic", bucketName: "b", endpoint: "minio:9000", accessKey: "a", secretKey: "s", environments: '["dev"]' }).includes(
                "flux-bucket:environments needs a bucket this stack provisions (provider aws or gcp), not generic",
            ),
        );
    });

    test("paths inside an environment start with its prefix", () => {
        assert.equal(pathInBucket("./clusters/prod", "teams/a/prod/"), "./teams/a/prod/clusters/prod");
        assert.equal(pathInBucket("clusters/prod", "prod/"), "./prod/clusters/prod");
        assert.equal(pathInBucket("./clusters/dev"), "./clusters/dev");
    });
});
