// `npm run bench`: measures every case of bench/cases.ts side by side and writes BENCHMARKS.md.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { benchCases, growthSizes, HISTORY_RELEASES, PREFIX, RELAY_RTT_MS, writeReleases, type BenchCase, type BenchContext, type Sample, type Sizes } from "./cases.ts";
import { Moto } from "../tests/support/moto.ts";
import { DelayRelay } from "./relay.ts";
import { generatedBlock, resultsTable, targetsTable, writeReport } from "./report.ts";
import { evaluateTargets, summarize, type CaseResult } from "./targets.ts";
import { bucketopsCommand, checkTools, REPO_ROOT } from "./tools.ts";
import { runOrFail } from "./measure.ts";
import { writeFleetTree } from "../tests/support/fleetTrees.ts";
import { writeManifestTree, type ManifestTree } from "../tests/support/trees.ts";

// The SDK's notice that releases after January 2027 need Node 22 would only clutter the progress lines.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const FULL_SIZES: Sizes = { treeManifests: 2_000, revisionObjects: 10_000, scaleManifests: 20_000 };
const QUICK_SIZES: Sizes = { treeManifests: 200, revisionObjects: 1_000, scaleManifests: 2_000 };
const REPORT = path.join(REPO_ROOT, "BENCHMARKS.md");

function positive(flag: string, value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new Error(`--${flag} takes an integer from 1 to 50, got '${value}'`);
    return n;
}

function options() {
    const { values } = parseArgs({
        options: {
            quick: { type: "boolean", default: false },
            runs: { type: "string", default: "5" },
            "slow-runs": { type: "string", default: "3" },
            only: { type: "string", multiple: true },
        },
    });
    const quick = values.quick!;
    return {
        quick,
        only: values.only,
        runs: { fast: quick ? 1 : positive("runs", values.runs!), slow: quick ? 1 : positive("slow-runs", values["slow-runs"]!) },
    };
}

const runsOf = (benchCase: BenchCase, runs: { fast: number; slow: number }) => benchCase.runs ?? (benchCase.slow ? runs.slow : runs.fast);

/** Cases of one group take turns run by run, so a drifting server or machine hurts none of them more. */
async function measureGroup(cases: BenchCase[], ctx: BenchContext, runs: { fast: number; slow: number }): Promise<CaseResult[]> {
    const samples = new Map<BenchCase, Sample[]>(cases.map((c) => [c, []]));
    const rounds = Math.max(...cases.map((c) => runsOf(c, runs)));
    for (let round = 1; round <= rounds; round++) {
        for (const benchCase of cases) {
            if (round > runsOf(benchCase, runs)) continue;
            const sample = await benchCase.sample(ctx);
            samples.get(benchCase)!.push(sample);
            const requests = sample.requests ? `, ${sample.requests.length} requests` : "";
            console.error(`  ${benchCase.id} ${round}/${runsOf(benchCase, runs)}: ${(sample.ms / 1000).toFixed(2)} s${requests}${sample.failure ? ` (${sample.failure})` : ""}`);
        }
    }
    return cases.map((c) => summarize(c, samples.get(c)!));
}

function groupsOf(cases: BenchCase[]): BenchCase[][] {
    const groups = new Map<string, BenchCase[]>();
    for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
    return [...groups.values()];
}

/** "commit abc1234", and which files differed from it (others work in this checkout). */
function describeCheckout(): string {
    const git = (...args: string[]) => spawnSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).stdout?.trimEnd() ?? "";
    const commit = git("rev-parse", "--short", "HEAD") || "unknown";
    // Porcelain lines are "XY path": tracked changes and new files alike.
    const changed = git("status", "--porcelain")
        .split("\n")
        .map((line) => line.slice(3))
        .filter((file) => file && file !== path.basename(REPORT));
    if (changed.length === 0) return `commit ${commit}`;
    const listed = changed.slice(0, 6).map((file) => `\`${file}\``).join(", ");
    return `commit ${commit}, with uncommitted changes to ${listed}${changed.length > 6 ? ` and ${changed.length - 6} more` : ""}`;
}

async function main(): Promise<void> {
    const { quick, only, runs } = options();
    const toolVersions = checkTools();
    const sizes = quick ? QUICK_SIZES : FULL_SIZES;
    const cases = benchCases(sizes).filter((c) => (only ? only.some((prefix) => c.id.startsWith(prefix)) : !(quick && c.id === "test-suite")));
    if (cases.length === 0) throw new Error(`no case id starts with ${only?.join(" or ")}; ids: ${benchCases(sizes).map((c) => c.id).join(", ")}`);

    const loadAtStart = os.loadavg()[0];
    const checkout = describeCheckout();
    const scratch = mkdtempSync(path.join(os.tmpdir(), "flux-bucket-bench-"));
    const moto = await Moto.start();
    const tree = writeManifestTree(path.join(scratch, "tree"), sizes.treeManifests);
    const deployRoot = path.join(scratch, "deploy");
    cpSync(path.join(REPO_ROOT, "deploy"), deployRoot, { recursive: true });
    const deployFiles = readdirSync(deployRoot, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
    const deployTree: ManifestTree = { root: deployRoot, fileCount: deployFiles, manifestCount: deployFiles, changedFile: path.join(deployRoot, "apps/dev/podinfo-values.yaml") };
    let revisionBucket: Promise<string> | undefined;
    let scaleTree: ManifestTree | undefined;
    let historyBucket: Promise<string> | undefined;
    let fleetTree: ManifestTree | undefined;
    const trees = new Map<number, ManifestTree>([[sizes.treeManifests, tree]]);
    let relay: Promise<DelayRelay> | undefined;
    let sharedCache: Promise<string> | undefined;
    const ctx: BenchContext = {
        moto,
        tree,
        deployTree,
        scratch,
        revisionBucket: () =>
            (revisionBucket ??= (async () => {
                console.error(`  filling a bucket with ${sizes.revisionObjects} objects (not measured)...`);
                const bucket = await moto.freshBucket("revision");
                await moto.fill(bucket, PREFIX, sizes.revisionObjects, (i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n`);
                return bucket;
            })()),
        historyBucket: () =>
            (historyBucket ??= (async () => {
                console.error(`  writing ${HISTORY_RELEASES} releases (not measured)...`);
                const bucket = await moto.freshBucket("history");
                await writeReleases(moto.endpoint, bucket);
                return bucket;
            })()),
        scaleTree: () => (scaleTree ??= writeManifestTree(path.join(scratch, "scale-tree"), sizes.scaleManifests)),
        fleetTree: () => (fleetTree ??= writeFleetTree(path.join(scratch, "fleet-tree"))),
        relayed: async () => (await (relay ??= DelayRelay.start(moto.endpoint, RELAY_RTT_MS))).endpoint,
        sharedCache: () =>
            (sharedCache ??= (async () => {
                console.error("  validating the manifest tree and the fleet tree into one cache (not measured)...");
                const dir = path.join(scratch, "shared-cache");
                const bucket = await moto.freshBucket("shared-cache");
                for (const [root, prefix] of [[tree.root, PREFIX], [ctx.fleetTree().root, ""]]) {
                    const command = bucketopsCommand(["push", root, `s3://${bucket}/${prefix}`, "--endpoint", moto.endpoint, "--region", "us-east-1", "--dry-run"]);
                    await runOrFail({ ...command, env: { ...command.env, BUCKETOPS_CACHE_DIR: dir } });
                }
                return dir;
            })()),
        treeOf: (manifests) => {
            if (!trees.has(manifests)) trees.set(manifests, writeManifestTree(path.join(scratch, `tree-${manifests}`), manifests));
            return trees.get(manifests)!;
        },
    };

    const results: CaseResult[] = [];
    try {
        for (const group of groupsOf(cases)) {
            console.error(`${group[0].group}`);
            results.push(...(await measureGroup(group, ctx, runs)));
        }
    } finally {
        await (await relay)?.close();
        moto.stop();
        rmSync(scratch, { recursive: true, force: true });
    }

    const outcomes = evaluateTargets(new Map(results.map((r) => [r.benchCase.id, r])), growthSizes(sizes));
    const partial = quick || only !== undefined;
    if (partial) {
        console.log([...resultsTable(results), "", ...targetsTable(outcomes)].join("\n"));
        console.log(`\n(${quick ? "--quick" : "--only"}: BENCHMARKS.md left as it is)`);
        return;
    }
    const block = generatedBlock(results, outcomes, { date: new Date(), toolVersions, runs, treeFiles: tree.fileCount, checkout, load: { start: loadAtStart, end: os.loadavg()[0] } });
    writeReport(REPORT, block, (generated) => `# Benchmarks\n\n${generated}\n`);
    console.log([...resultsTable(results), "", ...targetsTable(outcomes)].join("\n"));
    console.log(`\nwrote ${path.relative(process.cwd(), REPORT)}`);
}

main().catch((error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
