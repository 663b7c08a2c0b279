import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { treeOf } from "./expectProblems.ts";

// Node takes its ICU default locale from LC_ALL/LANG, and String#localeCompare sorts by it: "aa" after "z" in Danish,
// "y" between "i" and "j" in Lithuanian, "a" before "B" in English where the bytes put "B" first. What validation
// reports, and which Kustomization it takes as a root first, must not depend on the machine it runs on.
const LOCALES = ["C.UTF-8", "en_US.UTF-8", "da_DK.UTF-8", "lt_LT.UTF-8"];

/** Our environment with this locale, as a user's shell would set it. */
const inLocale = (locale: string) => ({ ...process.env, LC_ALL: locale, LANG: locale });

const VALIDATE = pathToFileURL(path.resolve(import.meta.dirname, "../../src/validate/index.ts")).href;

/** The files of the problems validateTree reports for `dir`, as a child process with this locale sees them. */
function reportedFiles(dir: string, locale: string): string[] {
    const script = `
        const { validateTree, ManifestValidationError } = await import(${JSON.stringify(VALIDATE)});
        try { await validateTree(process.argv[1]); console.log("[]"); }
        catch (error) {
            if (!(error instanceof ManifestValidationError)) throw error;
            console.log(JSON.stringify(error.problems.map((problem) => problem.file)));
        }`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script, dir], { env: inLocale(locale), encoding: "utf8" });
    return (JSON.parse(out) as string[]).map((file) => path.relative(dir, file));
}

describe("validation does not depend on the locale", () => {
    it("reports problems in the paths' byte order (as Git lists them) under every locale", (t) => {
        const broken = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata: 5\n`;
        const files = ["y.yaml", "j.yaml", "b.yaml", "aa.yaml", "B.yaml"];
        const dir = treeOf(t, Object.fromEntries(files.map((file) => [file, broken(path.basename(file, ".yaml").toLowerCase())])));
        // The locales must really differ here, or the test proves nothing: localeCompare orders these three ways.
        const byLocale = (locale: string) =>
            execFileSync(process.execPath, ["-e", `console.log(JSON.stringify(${JSON.stringify(files)}.sort((a, b) => a.localeCompare(b))))`], {
                env: inLocale(locale),
                encoding: "utf8",
            });
        assert.equal(new Set(LOCALES.map(byLocale)).size, 3);
        for (const locale of LOCALES) assert.deepEqual(reportedFiles(dir, locale), ["B.yaml", "aa.yaml", "b.yaml", "j.yaml", "y.yaml"], locale);
    });
});
