import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import type { BenchCase, Sample } from "./cases.ts";
import { operationOf, type LoggedRequest } from "../tests/support/moto.ts";
import type { CaseResult, TargetOutcome } from "./targets.ts";
import { median } from "./measure.ts";
import { rcloneRemoteEnv, S3_ENV } from "./tools.ts";

const START = "<!-- bench:generated:start (npm run bench rewrites this block; edit outside it) -->";
const END = "<!-- bench:generated:end -->";

export interface RunInfo {
    date: Date;
    toolVersions: Record<string, string>;
    runs: { fast: number; slow: number };
    treeFiles: number;
    /** The checkout measured: commit, and whether files differed from it. */
    checkout: string;
    /** 1-minute load averages when the run started and ended: other work on the machine skews wall times. */
    load: { start: number; end: number };
}

export function describeMachine(toolVersions: Record<string, string>): string[] {
    const cpus = os.cpus();
    return [
        `- CPU: ${cpus[0]?.model ?? "unknown"}${cpus[0]?.speed ? ` at ${cpus[0].speed} MHz` : ""}, ${cpus.length} core(s) visible to Node`,
        `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
        `- OS: ${os.type()} ${os.release()} (${os.arch()})`,
        `- Node ${process.version}`,
        ...Object.entries(toolVersions).map(([tool, version]) => `- ${tool}: \`${version}\``),
    ];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** "2,021 PUT object, 2 LIST, 1 GET object → 404", most frequent first. */
export function requestMix(requests: LoggedRequest[]): string {
    const counts = new Map<string, number>();
    for (const request of requests) {
        const name = `${operationOf(request)}${request.status >= 400 ? ` → ${request.status}` : ""}`;
        counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${n.toLocaleString("en")} ${name}`)
        .join(", ");
}

/** The sample whose request count is the median one (requests vary little, so its mix is typical). */
function typicalRequests(samples: Sample[]): LoggedRequest[] | undefined {
    const counted = samples.filter((s) => s.requests).sort((a, b) => a.requests!.length - b.requests!.length);
    return counted[Math.floor((counted.length - 1) / 2)]?.requests;
}

function requestColumns(samples: Sample[]): [string, string] {
    const typical = typicalRequests(samples);
    if (!typical) return ["–", "–"];
    const counts = samples.map((s) => s.requests!.length);
    const spread = Math.min(...counts) === Math.max(...counts) ? "" : ` (${Math.min(...counts)}–${Math.max(...counts)})`;
    return [`${typical.length.toLocaleString("en")}${spread}`, requestMix(typical)];
}

function row({ benchCase, samples, medianMs }: CaseResult): string {
    const times = samples.map((s) => s.ms);
    const spread = samples.length > 1 ? `${seconds(Math.min(...times))} – ${seconds(Math.max(...times))}` : "one run";
    const failures = samples.filter((s) => s.failure).map((s) => s.failure);
    const time = `${seconds(medianMs)}${failures.length ? ` (failed: ${failures.join("; ").replace(/\|/g, "\\|")})` : ""}`;
    const [requests, mix] = requestColumns(samples);
    const rss = samples.map((s) => s.peakRssKb).filter((kb) => kb !== undefined);
    const peak = rss.length ? `${(median(rss) / 1024).toFixed(0)} MiB` : "–";
    return `| ${benchCase.label} | ${time} | ${spread} | ${samples.length} | ${peak} | ${requests} | ${mix} |`;
}

export function resultsTable(results: CaseResult[]): string[] {
    const lines = [
        "| Case | Median wall time | Min – max | Runs | Peak RSS (median) | Requests (median) | Requests of a median run |",
        "|---|--:|--:|--:|--:|--:|---|",
    ];
    let group = "";
    for (const result of results) {
        if (result.benchCase.group !== group) {
            group = result.benchCase.group;
            lines.push(`| **${group}** | | | | | | |`);
        }
        lines.push(row(result));
    }
    return lines;
}

export function targetsTable(outcomes: TargetOutcome[]): string[] {
    if (outcomes.length === 0) return [];
    return [
        "| Target | Measured (medians) | Met? | Margin |",
        "|---|---|---|---|",
        ...outcomes.map((o) => `| ${o.target} | ${o.measured} | ${o.met ? "yes" : "**no**"} | ${o.margin} |`),
    ];
}

/** `A=1 B=2` for set variables, then "X and Y unset". */
function envLine(env: Record<string, string | undefined>): string {
    const set = Object.entries(env).filter(([, value]) => value !== undefined).map(([name, value]) => `${name}=${value}`);
    const unset = Object.keys(env).filter((name) => env[name] === undefined);
    return `\`${set.join(" ")}\`${unset.length ? ` (${unset.join(", ")} unset)` : ""}`;
}

function reproduce(cases: BenchCase[], info: RunInfo): string[] {
    return [
        "```sh",
        "apt-get update && apt-get install -y awscli rclone time   # aws-cli v2 at /usr/bin/aws, rclone, GNU time",
        "pip install 'moto[server]'                           # if moto_server is not on PATH",
        `npm run bench                                        # ${info.runs.fast} runs per fast case, ${info.runs.slow} per slow one; writes BENCHMARKS.md`,
        "npm run bench -- --runs 9 --slow-runs 5              # more runs",
        "npm run bench -- --quick                             # small fixtures, one run, no npm test; prints only",
        "npm run bench -- --only render                       # cases whose id starts with 'render'; prints only",
        "```",
        "",
        "The server is `moto_server -H 127.0.0.1 -p 0` (it picks a free port). Every S3 command runs with",
        `${envLine(S3_ENV)}; rclone's remote \`bench\` comes from ${envLine(rcloneRemoteEnv("<moto>"))}.`,
        "",
        "Each case runs, per sample (in a fresh bucket for the S3 cases):",
        "",
        "| Case id | Command |",
        "|---|---|",
        ...cases.map((c) => `| \`${c.id}\` | \`${c.shownAs}\` |`),
    ];
}

export function generatedBlock(results: CaseResult[], outcomes: TargetOutcome[], info: RunInfo): string {
    const cases = results.map((r) => r.benchCase);
    return [
        START,
        `Measured ${info.date.toISOString().slice(0, 16).replace("T", " ")} UTC by \`npm run bench\`: medians of ` +
            `${info.runs.fast} runs per fast case and ${info.runs.slow} per slow one (the test suite: one run). ` +
            `The pushed tree has ${info.treeFiles.toLocaleString("en")} files. Checkout: ${info.checkout}.`,
        "",
        "### Machine",
        "",
        ...describeMachine(info.toolVersions),
        `- 1-minute load average: ${info.load.start.toFixed(1)} when the run started, ${info.load.end.toFixed(1)} when it ended`,
        "",
        "### Results",
        "",
        ...resultsTable(results),
        "",
        "### Targets",
        "",
        ...targetsTable(outcomes),
        "",
        "### Reproduce",
        "",
        ...reproduce(cases, info),
        END,
    ].join("\n");
}

/** Rewrites the generated block of `file`, keeping whatever was written around it. */
export function writeReport(file: string, block: string, template: (block: string) => string): void {
    const current = existsSync(file) ? readFileSync(file, "utf8") : "";
    const start = current.indexOf(START);
    const end = current.indexOf(END);
    const next = start >= 0 && end > start ? current.slice(0, start) + block + current.slice(end + END.length) : template(block);
    writeFileSync(file, next);
}
