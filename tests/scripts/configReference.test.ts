import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { GENERATED, readme } from "../../scripts/configReference.ts";
import { declarations } from "../../stacks/config/declarations.ts";

const root = path.resolve(import.meta.dirname, "../..");

test("Pulumi.yaml's config block and the README's config reference are generated from the declarations", () => {
    for (const { file, make } of GENERATED) {
        const current = readFileSync(path.join(root, file), "utf8");
        assert.equal(make(current), current, `${file} is not up to date with stacks/config/declarations.ts: run npm run config-reference`);
    }
});

test("the generated files hold every declared key, with its layer and default", () => {
    const config = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")).config;
    assert.deepEqual(Object.keys(config), Object.keys(declarations));
    assert.deepEqual(config.region, { type: "string", description: declarations.region.description, default: "eu-west-1" });
    assert.deepEqual(config.secretKey, { type: "string", description: declarations.secretKey.description, secret: true });
    const table = readme(readFileSync(path.join(root, "README.md"), "utf8"));
    assert.match(table, /^\| `bucketInterval` \| flux \| string \| `1m` \| How often Flux checks the bucket/m);
    assert.match(table, /^\| `kubeconfig` \| both \| string \| \(secret\) \| /m);
});
