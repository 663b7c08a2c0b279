import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { readFluxConfig } from "../../../stacks/config/flux.ts";
import { readInfraConfig } from "../../../stacks/config/infra.ts";
import { ConfigReader } from "../../../stacks/config/reader.ts";
import { readStackFile } from "../../../src/render/stackFile.ts";

const root = path.resolve(import.meta.dirname, "../../..");

test("every stack file holds only known keys with valid values", () => {
    const files = readdirSync(root).filter((file) => /^Pulumi\..+\.yaml$/.test(file));
    assert.ok(files.length >= 6, `found ${files}`);
    for (const file of files) {
        const { config } = readStackFile(root, file.slice("Pulumi.".length, -".yaml".length));
        const reader = ConfigReader.fromAllConfig(config);
        const stack = file.slice("Pulumi.".length, -".yaml".length);
        const read = config["flux-bucket:layer"] === "flux"
            ? () => readFluxConfig(reader, { organization: "acme", project: "flux-bucket", stack })
            : () => readInfraConfig(reader);
        assert.doesNotThrow(read, file);
    }
});
