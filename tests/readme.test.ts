import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { type Declaration, declarations } from "../stacks/config/declarations.ts";

const readme = readFileSync(path.resolve(import.meta.dirname, "../README.md"), "utf8");

test("the README's config reference lists every key with its default", () => {
    const rows = new Map(
        [...readme.matchAll(/^\| `(\w+)` \| (?:infra|flux|both) \| [^|]+ \| ([^|]*) \|/gm)].map(([, key, value]) => [key, value.trim()]),
    );
    assert.deepEqual([...rows.keys()].sort(), Object.keys(declarations).sort());
    for (const [key, declaration] of Object.entries(declarations) as [string, Declaration][]) {
        const shown = declaration.default !== undefined ? `\`${declaration.default}\`` : declaration.secret ? "(secret)" : "";
        assert.equal(rows.get(key), shown, key);
    }
});

test("the README's first commands are the install and the offline render", () => {
    const commands = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, block]) => block.trim());
    assert.equal(commands[0], "npm ci\nnpm run render");
});
