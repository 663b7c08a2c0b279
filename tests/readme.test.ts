import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const readme = readFileSync(path.resolve(import.meta.dirname, "../README.md"), "utf8");

test("the README's first commands are the install and the offline render", () => {
    const commands = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, block]) => block.trim());
    assert.equal(commands[0], "npm ci\nnpm run render");
});
