import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePrefix } from "../../src/bucket/keys.ts";
import { endpointUrl, parseBucketUrl } from "../../src/cli/url.ts";

describe("bucket URLs", () => {
    it("parses s3:// and gs:// URLs, keeping the prefix verbatim as Flux's spec.prefix", () => {
        assert.deepEqual(parseBucketUrl("s3://my-bucket"), { scheme: "s3", bucket: "my-bucket", prefix: "" });
        assert.deepEqual(parseBucketUrl("s3://my-bucket/"), { scheme: "s3", bucket: "my-bucket", prefix: "" });
        assert.deepEqual(parseBucketUrl("gs://my.bucket/envs/prod"), { scheme: "gs", bucket: "my.bucket", prefix: "envs/prod" });
        assert.deepEqual(parseBucketUrl("S3://b12/envs/prod/"), { scheme: "s3", bucket: "b12", prefix: "envs/prod/" });
    });

    it("treats the prefix as a folder for tree operations, with one normaliser for every layer", () => {
        assert.equal(normalizePrefix(""), "");
        assert.equal(normalizePrefix("/"), "");
        assert.equal(normalizePrefix("envs/prod"), "envs/prod/");
        assert.equal(normalizePrefix("envs/prod/"), "envs/prod/");
        assert.equal(normalizePrefix("./prod"), "prod/");
        assert.equal(normalizePrefix("a//b"), "a/b/");
        assert.throws(() => parseBucketUrl("s3://bucket/../other"), /invalid prefix '\.\.\/other' in 's3:\/\/bucket\/\.\.\/other': '\.\.' is not allowed/);
        assert.throws(() => parseBucketUrl("s3://bucket/prod/../.."), /'\.\.' is not allowed/);
    });

    it("rejects other schemes and invalid bucket names with what is allowed", () => {
        assert.throws(() => parseBucketUrl("https://bucket/x"), /expected s3:\/\/<bucket>\[\/<prefix>\] or gs:\/\/<bucket>\[\/<prefix>\]/);
        assert.throws(() => parseBucketUrl("bucket/x"), /expected s3:\/\//);
        assert.throws(() => parseBucketUrl("s3://Upper/x"), /invalid bucket name 'Upper'.*lowercase letters/);
        assert.throws(() => parseBucketUrl("s3://ab"), /invalid bucket name 'ab'/);
    });

    it("takes endpoints as URLs or as Flux-style bare hosts", () => {
        assert.equal(endpointUrl("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert.equal(endpointUrl("minio.example:9000"), "https://minio.example:9000");
        assert.equal(endpointUrl("minio.example:9000", true), "http://minio.example:9000");
    });
});
