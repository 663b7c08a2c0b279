// usage: node bench/sdkFloor.cjs <dir> <endpoint> <bucket> <prefix>
//
// The floor under every `bucketops push` (bench/cases.ts, the "SDK alone" rows): what any push through
// @aws-sdk/client-s3 with bucketops' comparison must do, and nothing else. Node started as bin/bucketops.js starts
// it (its V8 settings, the compile cache), the SDK required as src/cli/store/s3.ts requires it, one listing of the
// prefix, and a PutObject of each file whose MD5 is not the listed object's ETag. No validation, lease, release record,
// ignore rules or Flux revision; no deletes. The time bucketops takes above this row is its own; the rest is Node's and
// the SDK's, which the project's rules make it use. Plain CommonJS, as the SDK is loaded.
"use strict";
require("node:module").enableCompileCache?.();
const { createHash } = require("node:crypto");
const { readdirSync, readFileSync, statSync } = require("node:fs");
const path = require("node:path");
const { S3Client, ListObjectsV2Command, PutObjectCommand } = require("@aws-sdk/client-s3");

async function main() {
    const [dir, endpoint, bucket, prefix] = process.argv.slice(2);
    // Region and credentials from the environment (the default chain), as bucketops takes them.
    const client = new S3Client({ endpoint, forcePathStyle: true });
    const listing = (async () => {
        const etags = new Map();
        let token;
        do {
            const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
            for (const object of page.Contents ?? []) etags.set(object.Key, object.ETag.replaceAll('"', ""));
            token = page.NextContinuationToken;
        } while (token);
        return etags;
    })();
    const files = readdirSync(dir, { recursive: true }).filter((name) => statSync(path.join(dir, name)).isFile());
    const local = files.map((name) => {
        const body = readFileSync(path.join(dir, name));
        return { key: prefix + name.split(path.sep).join("/"), body, md5: createHash("md5").update(body).digest("hex") };
    });
    const etags = await listing;
    await Promise.all(local.filter((file) => etags.get(file.key) !== file.md5).map((file) => client.send(new PutObjectCommand({ Bucket: bucket, Key: file.key, Body: file.body }))));
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
