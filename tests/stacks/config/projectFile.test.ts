import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { declarations } from "../../../stacks/config/declarations";
import { readFluxConfig } from "../../../stacks/config/flux";
import { readInfraConfig } from "../../../stacks/config/infra";
import { ConfigReader } from "../../../stacks/config/reader";

const root = path.resolve(__dirname, "../../..");

test("Pulumi.yaml declares exactly the keys, types, descriptions, defaults and secrecy the program applies", () => {
    const declared = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")).config;
    const expected = Object.fromEntries(
        Object.entries(declarations).map(([key, declaration]) => [
            key,
            {
                type: declaration.type,
                description: declaration.description,
                ...("default" in declaration ? { default: declaration.default } : {}),
                ...("secret" in declaration ? { secret: true } : {}),
            },
        ]),
    );
    assert.deepEqual(declared, expected);
});

test("every example stack file holds only known keys with valid values", () => {
    for (const file of ["Pulumi.dev.yaml", "Pulumi.dev-flux.yaml", "Pulumi.gcp-dev.yaml", "Pulumi.gcp-dev-flux.yaml"]) {
        const config: Record<string, unknown> = parse(readFileSync(path.join(root, file), "utf8")).config;
        const reader = ConfigReader.fromAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])));
        const stack = file.slice("Pulumi.".length, -".yaml".length);
        const read = config["flux-bucket:layer"] === "flux"
            ? () => readFluxConfig(reader, { organization: "acme", project: "flux-bucket", stack })
            : () => readInfraConfig(reader);
        assert.doesNotThrow(read, file);
    }
});
