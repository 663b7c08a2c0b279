// Validation over a corpus of real Flux repositories (docs/validation-corpus.md).
//
//   node scripts/validationCorpus.ts prepare <git-dir> <rev> <out-dir>/<owner>+<name> [--subdir <dir>] [--git-source <name>]...
//       Extracts <rev> of a repository (a fetched mirror) to <out-dir> and makes the one change a user moving to
//       BucketOps makes: every sourceRef to the cluster's own Git source (a GitRepository named flux-system, one
//       named after the repository, or each --git-source) and a FluxInstance's spec.sync read the Bucket
//       flux-bucket instead. Comments and layout are kept (the yaml library's document API).
//   node scripts/validationCorpus.ts compare-builds <dir-of-trees>... [--tree <dir>]...
//       Compares every build that validation composes without kustomize (src/validate/compose.ts) with
//       `kubectl kustomize` of the same, in every tree (scripts/compareBuilds.ts); exit 1 on any difference.
//   node scripts/validationCorpus.ts check <dir-of-trees> [--root <tree>=<path>]... [--time] [--json]
//       Validates each tree under <dir-of-trees> as `bucketops push` does (src/validate validateTree, builds on, no
//       network for remote bases) and prints a table: files, entry mode, errors, warnings, seconds, and how many
//       times validation started kubectl (the builds src/validate/compose.ts could not compose). With --time,
//       also pushes each tree to moto_server (cold, then unchanged) with bucketops and with `aws s3 sync`.
//
// Run it where nothing can leave the machine: `unshare -n sh -c 'ip link set lo up; node scripts/validationCorpus.ts …'`.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isMap, isScalar, parseAllDocuments, visit, type Document } from "yaml";
import { listYamlFiles, ManifestValidationError, validateTree, type Problem } from "../src/validate/index.ts";

const [command, ...rest] = process.argv.slice(2);

function flags(args: string[], name: string): string[] {
    const values: string[] = [];
    for (let i = 0; i < args.length; i++) if (args[i] === name) values.push(args[++i]);
    return values;
}

function positional(args: string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
        if (args[i].startsWith("--")) {
            if (!["--time", "--json"].includes(args[i])) i++;
        } else out.push(args[i]);
    }
    return out;
}

/** The names of GitRepository objects of the tree that point back at the repository itself. */
function ownGitSources(dir: string, repoName: string): Set<string> {
    const names = new Set(["flux-system"]);
    for (const file of walkYaml(dir)) {
        const text = readFileSync(file, "utf8");
        if (!text.includes("GitRepository")) continue;
        for (const document of parseAllDocuments(text)) {
            const object = document.toJS({ maxAliasCount: -1 }) as { kind?: string; metadata?: { name?: string }; spec?: { url?: string; ref?: { branch?: string } } } | null;
            // The same repository on another branch (a tenant's) is another tree: it stays a Git source.
            const branch = object?.spec?.ref?.branch;
            const sameTree = branch === undefined || ["main", "master"].includes(branch);
            if (object?.kind === "GitRepository" && object.metadata?.name && sameTree && String(object.spec?.url ?? "").toLowerCase().includes(repoName.toLowerCase())) {
                names.add(object.metadata.name);
            }
        }
    }
    return names;
}

function walkYaml(dir: string): string[] {
    const out: string[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== ".git") out.push(...walkYaml(full));
        else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) out.push(full);
    }
    return out;
}

/** Rewrites sourceRefs to the cluster's Git source (and FluxInstance syncs) to the Bucket; returns how many. */
function toBucket(document: Document, gitSources: Set<string>): number {
    let changed = 0;
    visit(document, {
        Pair(_, pair) {
            if (!isScalar(pair.key) || !isMap(pair.value)) return;
            const key = String(pair.key.value);
            const map = pair.value;
            const kind = map.get("kind");
            const name = map.get("name");
            const ownSource = (kind === "GitRepository" || kind === "OCIRepository") && typeof name === "string" && gitSources.has(name);
            const isSourceRef = key === "sourceRef" && ownSource;
            const isSync = key === "sync" && (kind === "GitRepository" || kind === "OCIRepository") && map.has("path");
            if (!isSourceRef && !isSync) return;
            map.set("kind", "Bucket");
            if (isSourceRef) map.set("name", "flux-bucket");
            changed++;
        },
        // An ArtifactGenerator's spec.sources: [{alias, kind: GitRepository, name: flux-system}].
        Seq(_, seq) {
            for (const item of seq.items) {
                if (!isMap(item) || !item.has("alias")) continue;
                const kind = item.get("kind");
                const name = item.get("name");
                if ((kind === "GitRepository" || kind === "OCIRepository") && typeof name === "string" && gitSources.has(name)) {
                    item.set("kind", "Bucket");
                    item.set("name", "flux-bucket");
                    changed++;
                }
            }
        },
    });
    return changed;
}

function prepare(args: string[]): void {
    const [gitDir, rev, out] = positional(args);
    mkdirSync(out, { recursive: true });
    // --subdir: only that folder of the repository is the tree (podinfo's deploy/).
    const [subdir] = flags(args, "--subdir");
    execFileSync("sh", ["-c", `git --git-dir="$0" archive "$1" ${subdir ? `"$3"` : ""} | tar -x -C "$2" ${subdir ? `--strip-components=$4` : ""}`, gitDir, rev, out, subdir ?? "", String(subdir?.split("/").filter(Boolean).length ?? 0)]);
    const commit = execFileSync("git", [`--git-dir=${gitDir}`, "rev-parse", `${rev}^{commit}`], { encoding: "utf8" }).trim();
    // The repository's name: the output folder is named <owner>+<name>.
    const repoName = path.basename(path.resolve(out)).split("+").pop()!;
    const gitSources = new Set([...ownGitSources(out, repoName), ...flags(args, "--git-source")]);
    let files = 0;
    let refs = 0;
    for (const file of walkYaml(out)) {
        const text = readFileSync(file, "utf8");
        if (!text.includes("GitRepository") && !text.includes("OCIRepository")) continue;
        const documents = parseAllDocuments(text);
        if (documents.some((document) => document.errors.length > 0)) continue;
        const changed = documents.reduce((sum, document) => sum + toBucket(document, gitSources), 0);
        if (changed === 0) continue;
        writeFileSync(file, documents.map((document) => document.toString()).join(""));
        files++;
        refs += changed;
    }
    writeFileSync(path.join(out, ".corpus.json"), `${JSON.stringify({ gitDir, commit, gitSources: [...gitSources], files, refs }, null, 2)}\n`);
    console.log(`${out}: ${commit} · ${refs} sourceRef(s) in ${files} file(s) now read the Bucket (Git sources: ${[...gitSources].join(", ")})`);
}

interface Row {
    tree: string;
    commit: string;
    files: number;
    yaml: number;
    mode: string;
    errors: Problem[];
    warnings: Problem[];
    notes: string[];
    seconds: number;
    /** kubectl processes the validation started. */
    kubectl: number;
    timing?: Record<string, number>;
}

/**
 * KUBECTL pointed at a wrapper that notes each start of kubectl (in a file beside it) before running the real one;
 * returns how many starts were noted so far.
 */
function countKubectl(): () => number {
    const dir = mkdtempSync(path.join(tmpdir(), "bucketops-kubectl-"));
    const log = path.join(dir, "starts");
    const real = execFileSync("sh", ["-c", `command -v "${process.env.KUBECTL ?? "kubectl"}"`], { encoding: "utf8" }).trim();
    const wrapper = path.join(dir, "kubectl");
    writeFileSync(log, "");
    writeFileSync(wrapper, `#!/bin/sh\necho x >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    process.env.KUBECTL = wrapper;
    return () => readFileSync(log, "utf8").length / 2;
}

async function check(args: string[]): Promise<void> {
    const [dir] = positional(args);
    const roots = new Map(flags(args, "--root").map((value) => value.split("=", 2) as [string, string]));
    const trees = readdirSync(dir).filter((name) => statSync(path.join(dir, name)).isDirectory()).sort();
    const rows: Row[] = [];
    const kubectlStarts = countKubectl();
    console.log("| tree | commit | files | YAML | mode | errors | warnings | validate s | kubectl | bucketops cold s | bucketops unchanged s | bucketops one change s | aws cold s | aws unchanged s | aws one change s |");
    for (const tree of trees) {
        const treeDir = path.join(dir, tree);
        let meta: { commit?: string } = {};
        try {
            meta = JSON.parse(readFileSync(path.join(treeDir, ".corpus.json"), "utf8"));
        } catch {
            // a tree not made by prepare
        }
        const row: Row = {
            tree,
            commit: meta.commit?.slice(0, 12) ?? "",
            files: countFiles(treeDir),
            yaml: (await listYamlFiles(treeDir)).length,
            mode: "",
            errors: [],
            warnings: [],
            notes: [],
            seconds: 0,
            kubectl: 0,
        };
        const start = performance.now();
        const startsBefore = kubectlStarts();
        try {
            const report = await validateTree(treeDir, { rootPath: roots.get(tree) });
            row.mode = report.mode;
            row.warnings = report.warnings;
            row.notes = report.notes;
        } catch (error) {
            if (!(error instanceof ManifestValidationError)) throw error;
            row.mode = "refused";
            row.errors = error.problems;
        }
        row.seconds = (performance.now() - start) / 1000;
        row.kubectl = kubectlStarts() - startsBefore;
        // A refused tree cannot be pushed: it is timed once its errors are fixed.
        if (args.includes("--time") && row.errors.length === 0) {
            try {
                row.timing = await timePushes(treeDir, roots.get(tree));
            } catch (error) {
                await (await import("./validationCorpusTiming.ts")).stopMoto();
                throw error;
            }
        }
        rows.push(row);
        printRow(row);
    }
    if (args.includes("--time")) await (await import("./validationCorpusTiming.ts")).stopMoto();
    if (args.includes("--json")) writeFileSync(path.join(dir, "results.json"), JSON.stringify(rows, null, 2));
    for (const row of rows) {
        for (const problem of row.errors) console.log(`  ERROR ${row.tree}: ${path.relative(dir, problem.file)}: ${problem.object}: ${problem.field}: ${problem.message}`);
    }
    for (const row of rows) {
        const byMessage = new Map<string, number>();
        for (const warning of row.warnings) {
            const kind = warning.message.replace(/"[^"]*"/g, '"…"').replace(/\(.*$/, "").slice(0, 90);
            byMessage.set(kind, (byMessage.get(kind) ?? 0) + 1);
        }
        for (const [message, count] of byMessage) console.log(`  warn  ${row.tree}: ${count} × ${message}`);
        for (const note of row.notes) console.log(`  note  ${row.tree}: ${note}`);
    }
}


function printRow(row: Row): void {
    const { plainSecrets, ...seconds } = row.timing ?? {};
    const timing = row.timing ? ` | ${Object.values(seconds).map((value) => value.toFixed(2)).join(" | ")}${plainSecrets ? " (pushed with --allow-plain-secrets)" : ""}` : "";
    console.log(`| ${row.tree} | ${row.commit} | ${row.files} | ${row.yaml} | ${row.mode} | ${row.errors.length} | ${row.warnings.length} | ${row.seconds.toFixed(1)} | ${row.kubectl}${timing} |`);
}

function countFiles(dir: string): number {
    let count = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) count += countFiles(path.join(dir, entry.name));
        else if (entry.isFile()) count++;
    }
    return count;
}

/**
 * Every build composed without kustomize (src/validate/compose.ts), compared with kubectl kustomize's, in each tree
 * of each <dir> (a directory of trees, or `--tree <dir>` for one): composed, declined, mismatches (exit 1 if any).
 */
async function compareBuilds(args: string[]): Promise<void> {
    const { compareTree } = await import("./compareBuilds.ts");
    const trees = [
        ...positional(args).flatMap((dir) => readdirSync(dir).filter((name) => statSync(path.join(dir, name)).isDirectory()).sort().map((name) => path.join(dir, name))),
        ...flags(args, "--tree"),
    ];
    console.log("| tree | commit | kustomizations | composed | declined | mismatches |");
    let mismatches = 0;
    for (const tree of trees) {
        let commit = "";
        try {
            commit = String(JSON.parse(readFileSync(path.join(tree, ".corpus.json"), "utf8")).commit ?? "").slice(0, 12);
        } catch {
            // a tree not made by prepare
        }
        const kustomizations = (await listYamlFiles(tree)).filter((file) => /(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(file)).length;
        const result = await compareTree(tree);
        mismatches += result.mismatches.length;
        console.log(`| ${path.basename(tree)} | ${commit} | ${kustomizations} | ${result.composed} | ${result.declined} | ${result.mismatches.length} |`);
        for (const mismatch of result.mismatches) console.log(`  MISMATCH ${path.basename(tree)}: ${mismatch}`);
    }
    if (mismatches > 0) process.exitCode = 1;
}

/** The timing module (moto_server, aws-cli) is loaded only with --time. */
async function timePushes(treeDir: string, rootPath?: string): Promise<Record<string, number>> {
    const { timePushes: time } = await import("./validationCorpusTiming.ts");
    return time(treeDir, rootPath);
}

if (command === "prepare") prepare(rest);
else if (command === "check") await check(rest);
else if (command === "compare-builds") await compareBuilds(rest);
else {
    console.error("usage: node scripts/validationCorpus.ts prepare <git-dir> <rev> <out-dir> [--git-source <name>]... | check <dir> [--root <tree>=<path>]... [--time] [--json]");
    process.exitCode = 2;
}
