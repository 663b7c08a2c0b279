import type { BenchCase, Sample } from "./cases.ts";
import { median } from "./measure.ts";

export interface CaseResult {
    benchCase: BenchCase;
    samples: Sample[];
    medianMs: number;
}

export interface TargetOutcome {
    target: string;
    measured: string;
    met: boolean;
    margin: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** bucketops no slower than aws-cli (the target), validation included. */
function pushTarget(results: Map<string, CaseResult>, kind: string, description: string): TargetOutcome | undefined {
    const ours = results.get(`push-${kind}-bucketops`);
    const fastest = results.get(`push-${kind}-aws`);
    if (!ours || !fastest) return undefined;
    const ratio = ours.medianMs / fastest.medianMs;
    return {
        target: `${description}: bucketops at least as fast as aws-cli`,
        measured: `${seconds(ours.medianMs)} vs ${seconds(fastest.medianMs)} (${fastest.benchCase.label})`,
        met: ratio <= 1,
        margin: ratio <= 1 ? `${((1 - ratio) * 100).toFixed(0)}% faster` : `${((ratio - 1) * 100).toFixed(0)}% slower (${seconds(ours.medianMs - fastest.medianMs)} over)`,
    };
}

const RENDER_LIMIT = 1.5;

function renderTarget(results: Map<string, CaseResult>, stack: string): TargetOutcome | undefined {
    const render = results.get(`render-${stack}`);
    const baseline = results.get("render-baseline");
    if (!render || !baseline) return undefined;
    const ratio = render.medianMs / baseline.medianMs;
    return {
        target: `\`npm run render -- --stack ${stack}\` within ${RENDER_LIMIT}× the one-resource baseline`,
        measured: `${ratio.toFixed(2)}× (${seconds(render.medianMs)} / ${seconds(baseline.medianMs)})`,
        met: ratio <= RENDER_LIMIT,
        margin: ratio <= RENDER_LIMIT
            ? `${(RENDER_LIMIT - ratio).toFixed(2)}× to spare`
            : `${(ratio - RENDER_LIMIT).toFixed(2)}× over (${seconds(render.medianMs - RENDER_LIMIT * baseline.medianMs)} too slow)`,
    };
}

const DEPLOY_LIMIT_MS = 500;

/** A deploy/-sized push within half a second, validation included. */
function deployTarget(results: Map<string, CaseResult>, kind: string, description: string): TargetOutcome | undefined {
    const ours = results.get(`deploy-${kind}-bucketops`);
    if (!ours) return undefined;
    const met = ours.medianMs <= DEPLOY_LIMIT_MS;
    return {
        target: `${description} of deploy/: bucketops within ${seconds(DEPLOY_LIMIT_MS)}`,
        measured: seconds(ours.medianMs),
        met,
        margin: met ? `${seconds(DEPLOY_LIMIT_MS - ours.medianMs)} to spare` : `${seconds(ours.medianMs - DEPLOY_LIMIT_MS)} over`,
    };
}

/**
 * Issue 28: bucketops, validation included, within `limit` × `rclone sync --checksum --fast-list` (the tool with
 * bucketops' own comparison: MD5s from one recursive listing), measured in the same run.
 */
function rcloneTarget(results: Map<string, CaseResult>, fixture: "deploy" | "push", kind: string, limit: number, description: string): TargetOutcome | undefined {
    const ours = results.get(`${fixture}-${kind}-bucketops`);
    const rclone = results.get(`${fixture}-${kind}-rclone-checksum`);
    if (!ours || !rclone) return undefined;
    const ratio = ours.medianMs / rclone.medianMs;
    // Where measured (deploy/), what Node and the SDK alone take of the same budget (cases.ts, SDK_FLOOR).
    const floor = results.get(`${fixture}-${kind}-sdk-floor`);
    const floorShare = floor ? `; the SDK alone ${seconds(floor.medianMs)} (${(floor.medianMs / rclone.medianMs).toFixed(2)}×)` : "";
    return {
        target: `${description}: bucketops within ${limit}× \`rclone sync --checksum --fast-list\``,
        measured: `${seconds(ours.medianMs)} vs ${seconds(rclone.medianMs)} (${ratio.toFixed(2)}×)${floorShare}`,
        met: ratio <= limit,
        margin: ratio <= limit ? `${(limit - ratio).toFixed(2)}× to spare` : `${(ratio - limit).toFixed(2)}× over (${seconds(ours.medianMs - limit * rclone.medianMs)} too slow)`,
    };
}

const RSS_LIMIT_MIB = 100;

/** Issue 28: the peak RSS of every deploy/ push (first, unchanged, one change, one change with a shared cache), median of its runs. */
function deployRssTarget(results: Map<string, CaseResult>): TargetOutcome | undefined {
    const rows = ["full", "no-change", "one-change", "one-change-shared-cache"]
        .map((kind) => [kind, results.get(kind === "one-change-shared-cache" ? "deploy-one-change-bucketops-shared-cache" : `deploy-${kind}-bucketops`)] as const)
        .filter(([, result]) => result);
    const measured = rows
        .map(([kind, result]) => [kind, median(result!.samples.flatMap((s) => (s.peakRssKb === undefined ? [] : [s.peakRssKb / 1024])))] as const)
        .filter(([, mib]) => Number.isFinite(mib));
    if (measured.length === 0) return undefined;
    const worst = Math.max(...measured.map(([, mib]) => mib));
    return {
        target: `Peak RSS of a deploy/ push within ${RSS_LIMIT_MIB} MiB`,
        measured: measured.map(([kind, mib]) => `${kind}: ${mib.toFixed(0)} MiB`).join("; "),
        met: worst <= RSS_LIMIT_MIB,
        margin: worst <= RSS_LIMIT_MIB ? `${(RSS_LIMIT_MIB - worst).toFixed(0)} MiB to spare` : `${(worst - RSS_LIMIT_MIB).toFixed(0)} MiB over`,
    };
}

/** Linear growth: the cost per manifest of the largest tree at most 1.25× that of the tree ten times smaller. */
const GROWTH_LIMIT = 1.25;

function growthTarget(results: Map<string, CaseResult>, sizes: number[]): TargetOutcome | undefined {
    const rows = [...sizes.map((n) => [n, results.get(`growth-${n}`)] as const), [sizes[1] * 10, results.get("scale-push-bucketops")] as const];
    if (rows.some(([, result]) => !result)) return undefined;
    const perFile = rows.map(([n, result]) => result!.medianMs / n);
    const ratio = perFile[2] / perFile[1];
    return {
        target: `Push cost grows linearly with the tree (per manifest at ${rows[2][0].toLocaleString("en")} within ${GROWTH_LIMIT}× that at ${rows[1][0].toLocaleString("en")})`,
        measured: rows.map(([n], i) => `${n.toLocaleString("en")}: ${seconds(rows[i][1]!.medianMs)} (${perFile[i].toFixed(1)} ms/manifest)`).join("; "),
        met: ratio <= GROWTH_LIMIT,
        margin: `${ratio.toFixed(2)}×`,
    };
}

const HISTORY_LIMIT_MS = 2000;

/** `history` of 1,000 releases within 2 s (issue 26), on a first run and with the records read before. */
function historyTarget(results: Map<string, CaseResult>, cache: "cold" | "warm"): TargetOutcome | undefined {
    const history = results.get(`history-releases-${cache}`);
    if (!history) return undefined;
    const met = history.medianMs <= HISTORY_LIMIT_MS;
    return {
        target: `\`bucketops history\` of 1,000 releases within ${seconds(HISTORY_LIMIT_MS)} (${cache === "cold" ? "first run" : "release cache"})`,
        measured: seconds(history.medianMs),
        met,
        margin: met ? `${seconds(HISTORY_LIMIT_MS - history.medianMs)} to spare` : `${seconds(history.medianMs - HISTORY_LIMIT_MS)} over`,
    };
}

const FLEET_LIMIT = 1.5;

/** Issue 23: a fleet tree's first push, every Flux build validated, at most 1.5 × aws-cli's. */
function fleetTarget(results: Map<string, CaseResult>): TargetOutcome | undefined {
    const ours = results.get("fleet-full-bucketops");
    const aws = results.get("fleet-full-aws");
    if (!ours || !aws) return undefined;
    const ratio = ours.medianMs / aws.medianMs;
    return {
        target: `Push a 757-file fleet tree (84 Flux builds validated): at most ${FLEET_LIMIT} × aws-cli`,
        measured: `${seconds(ours.medianMs)} vs ${seconds(aws.medianMs)} (${ratio.toFixed(2)} ×)`,
        met: ratio <= FLEET_LIMIT,
        margin: ratio <= FLEET_LIMIT ? `${(FLEET_LIMIT - ratio).toFixed(2)} × to spare` : `${(ratio - FLEET_LIMIT).toFixed(2)} × over`,
    };
}

/** Issue 23: re-pushing the unchanged fleet tree takes at most 0.5 s. */
function fleetUnchangedTarget(results: Map<string, CaseResult>): TargetOutcome | undefined {
    const ours = results.get("fleet-no-change-bucketops");
    if (!ours) return undefined;
    return {
        target: "Re-push the unchanged fleet tree: at most 0.5 s",
        measured: seconds(ours.medianMs),
        met: ours.medianMs <= 500,
        margin: ours.medianMs <= 500 ? `${seconds(500 - ours.medianMs)} to spare` : `${seconds(ours.medianMs - 500)} over`,
    };
}

export function evaluateTargets(results: Map<string, CaseResult>, growthSizes: number[] = []): TargetOutcome[] {
    return [
        pushTarget(results, "full", "Push into an empty prefix"),
        pushTarget(results, "no-change", "Re-push with nothing changed"),
        pushTarget(results, "one-change", "Re-push with one change"),
        deployTarget(results, "full", "First push"),
        deployTarget(results, "no-change", "Re-push with nothing changed"),
        deployTarget(results, "one-change", "Re-push with one change"),
        rcloneTarget(results, "deploy", "one-change", 3, "Re-push deploy/ with one change"),
        rcloneTarget(results, "deploy", "no-change", 2, "Re-push deploy/ with nothing changed"),
        rcloneTarget(results, "push", "one-change", 1.5, "Re-push the manifest tree (the push rows) with one change"),
        deployRssTarget(results),
        fleetTarget(results),
        fleetUnchangedTarget(results),
        renderTarget(results, "dev"),
        renderTarget(results, "gcp-dev"),
        growthSizes.length === 2 ? growthTarget(results, growthSizes) : undefined,
        historyTarget(results, "cold"),
        historyTarget(results, "warm"),
    ].filter((outcome) => outcome !== undefined);
}

export function summarize(benchCase: BenchCase, samples: Sample[]): CaseResult {
    return { benchCase, samples, medianMs: median(samples.map((s) => s.ms)) };
}
