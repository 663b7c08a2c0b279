import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { paginateListObjectsV2 } from "@aws-sdk/client-s3";
import { runOrFail, timeCommand } from "./measure.ts";
import type { LoggedRequest, Moto } from "../tests/support/moto.ts";
import { withOneFileChanged, type ManifestTree } from "../tests/support/trees.ts";
import { FluxControllers, fluxStackApi } from "../tests/support/fluxApi.ts";
import { fluxRevision, ignorePatterns } from "../src/cli/revision.ts";
import { writeRelease } from "../src/cli/provenance.ts";
import { S3Store } from "../src/cli/store/s3.ts";
import { parseBucketUrl } from "../src/cli/url.ts";
import { walkFiles } from "../src/fs/walk.ts";
import { isBucketopsKey } from "../src/bucket/keys.ts";
import { awsSyncCommand, bucketopsCommand, rcloneChecksumCommand, rcloneSyncCommand, sdkFloorCommand, type Command } from "./tools.ts";

/** The prefix every S3 case writes to or reads, in its own bucket. */
export const PREFIX = "envs/dev/";

/** The fixture sizes: the issue's, or small ones for --quick. */
export interface Sizes {
    treeManifests: number;
    revisionObjects: number;
    /** The large tree of the scale cases (issue 17: 20,000 manifests). */
    scaleManifests: number;
}

/** What the cases share: the server, the fixture trees, a scratch folder; setup that is done once. */
export interface BenchContext {
    moto: Moto;
    tree: ManifestTree;
    /** A copy of the repository's deploy/ (11 files), pushed to a bucket root as the README does. */
    deployTree: ManifestTree;
    scratch: string;
    /** A bucket holding `revisionObjects` objects under PREFIX, filled on first use. */
    revisionBucket: () => Promise<string>;
    /** A bucket with HISTORY_RELEASES releases under PREFIX, written on first use. */
    historyBucket: () => Promise<string>;
    /** The tree of `scaleManifests` manifests, written on first use. */
    scaleTree: () => ManifestTree;
    /** A tree of that many manifests, written on first use. */
    treeOf: (manifests: number) => ManifestTree;
    /** The fleet tree of issue 23 (tests/support/fleetTrees.ts), written on first use. */
    fleetTree: () => ManifestTree;
    /** The endpoint of a DelayRelay (bench/relay.ts) in front of moto with RELAY_RTT_MS round trips, started on first use. */
    relayed: () => Promise<string>;
    /**
     * A validation cache folder that the manifest tree and the fleet tree were validated into (an untimed `push
     * --dry-run` of each), made on first use: the cache of a user who pushes other trees from the same machine.
     */
    sharedCache: () => Promise<string>;
}

export interface Sample {
    ms: number;
    /** Peak RSS of the timed command (push cases). */
    peakRssKb?: number;
    /** The requests the server answered during the timed command (cases against moto only). */
    requests?: LoggedRequest[];
    /** Set when the command failed but its time is still worth showing (the test suite). */
    failure?: string;
}

export interface BenchCase {
    id: string;
    /** The table's section; cases of one group are compared with each other. */
    group: string;
    label: string;
    /** Slow cases run fewer times (--slow-runs instead of --runs). */
    slow: boolean;
    /** A fixed number of runs, whatever --runs says. */
    runs?: number;
    /** The command line as a reader would type it, for the reproduce section. */
    shownAs: string;
    sample(ctx: BenchContext): Promise<Sample>;
}

/** `cache`: bucketops' validation cache folder (the other tools validate nothing). */
type SyncCommand = (dir: string, bucket: string, prefix: string, endpoint: string, cache?: string) => Command;

const bucketopsPush: SyncCommand = (dir, bucket, prefix, endpoint, cache) => {
    const command = bucketopsCommand(["push", dir, `s3://${bucket}/${prefix}`, "--endpoint", endpoint, "--region", "us-east-1"]);
    return cache ? { ...command, env: { ...command.env, BUCKETOPS_CACHE_DIR: cache } } : command;
};

const SYNC_TOOLS: { id: string; label: string; shownAs: string; command: SyncCommand }[] = [
    {
        id: "bucketops",
        label: "`bucketops push`",
        shownAs: "bucketops push <tree> s3://<bucket>/envs/dev/ --endpoint <moto> --region us-east-1",
        command: bucketopsPush,
    },
    {
        id: "aws",
        label: "`aws s3 sync` (aws-cli v2)",
        shownAs: "/usr/bin/aws s3 sync <tree> s3://<bucket>/envs/dev/ --delete --endpoint-url <moto>",
        command: awsSyncCommand,
    },
    {
        id: "rclone",
        label: "`rclone sync`",
        shownAs: "rclone sync <tree> bench:<bucket>/envs/dev/",
        command: rcloneSyncCommand,
    },
    {
        id: "rclone-checksum",
        label: "`rclone sync --checksum --fast-list`",
        shownAs: "rclone sync --checksum --fast-list <tree> bench:<bucket>/envs/dev/",
        command: rcloneChecksumCommand,
    },
];

type SyncTool = (typeof SYNC_TOOLS)[number];

/**
 * Not a tool but a floor (bench/sdkFloor.cjs): Node and @aws-sdk/client-s3, started as the bin starts, listing the
 * prefix and putting what changed, with no bucketops code. Shown beside deploy/'s re-pushes, where start-up is most of
 * the time, to tell bucketops' own share of it from Node's and the SDK's.
 */
const SDK_FLOOR: SyncTool = {
    id: "sdk-floor",
    label: "the SDK alone: Node, `@aws-sdk/client-s3`, one listing and a PutObject per changed file (no bucketops code)",
    shownAs: "bench/sdkFloor.cjs <tree> <moto> <bucket> ''   (as bin/bucketops.js starts Node)",
    command: (dir, bucket, prefix, endpoint) => sdkFloorCommand(dir, bucket, prefix, endpoint),
};

/** The objects under the prefix, but bucketops' own (its release record): the files a sync should have written. */
async function countObjects(moto: Moto, bucket: string, prefix: string): Promise<number> {
    let count = 0;
    for await (const page of paginateListObjectsV2({ client: moto.s3 }, { Bucket: bucket, Prefix: prefix })) {
        count += (page.Contents ?? []).filter(({ Key }) => !isBucketopsKey(Key!)).length;
    }
    return count;
}

/** A tree and the prefix it is pushed under. */
interface Fixture {
    id: string;
    what: string;
    tree: (ctx: BenchContext) => ManifestTree;
    prefix: string;
}

/** Times one sync (against `endpoint`, moto's own by default), counting its requests and its peak RSS, and checks the prefix holds the tree. */
async function timedSync(ctx: BenchContext, command: SyncCommand, bucket: string, fixture: Fixture, cache: string, endpoint = ctx.moto.endpoint): Promise<Sample> {
    const { moto } = ctx;
    const tree = fixture.tree(ctx);
    const { result, requests } = await moto.recordRequests(() => runOrFail(command(tree.root, bucket, fixture.prefix, endpoint, cache), { peakRss: true }));
    const stored = await countObjects(moto, bucket, fixture.prefix);
    if (stored !== tree.fileCount) throw new Error(`expected ${tree.fileCount} objects under '${fixture.prefix}' in ${bucket}, found ${stored}`);
    return { ms: result.ms, requests, peakRssKb: result.peakRssKb };
}

/** A copy of ctx.sharedCache for one sample: the change it times is new to it, as in the other samples. */
async function copyOfSharedCache(ctx: BenchContext): Promise<string> {
    const copy = mkdtempSync(path.join(ctx.scratch, "cache-"));
    cpSync(await ctx.sharedCache(), copy, { recursive: true });
    return copy;
}

/**
 * A re-push: an untimed first push of the fixture into a fresh bucket (moto directly), then the same push timed, with
 * one file changed or nothing, against `endpoint` (moto's own unless given: the relay); both with `cache` as
 * bucketops' validation cache (a new, empty one unless given).
 */
async function timedRePush(
    ctx: BenchContext,
    tool: SyncTool,
    fixture: Fixture,
    change: boolean,
    { endpoint, cache: cacheDir }: { endpoint?: () => Promise<string>; cache?: () => Promise<string> } = {},
): Promise<Sample> {
    const bucket = await ctx.moto.freshBucket(`${fixture.id}-${change ? "change" : "same"}-${tool.id}`);
    const cache = cacheDir ? await cacheDir() : mkdtempSync(path.join(ctx.scratch, "cache-"));
    await runOrFail(tool.command(fixture.tree(ctx).root, bucket, fixture.prefix, ctx.moto.endpoint, cache));
    const timed = async () => timedSync(ctx, tool.command, bucket, fixture, cache, endpoint ? await endpoint() : ctx.moto.endpoint);
    return change ? withOneFileChanged(fixture.tree(ctx), timed) : timed();
}

const count = (n: number) => n.toLocaleString("en");

/**
 * Per tree and tool: a first push into a fresh bucket, a re-push with nothing changed and one with one file
 * changed. Each sample starts with an empty validation cache; the re-pushes follow an untimed first push, as they
 * would for a user (so a re-push of an unchanged tree finds it validated; a changed one is validated again).
 */
const pushCases = ({ treeManifests }: Sizes): BenchCase[] => {
    const fixtures: Fixture[] = [
        { id: "push", what: `a tree of ${count(treeManifests)} manifests`, tree: (ctx) => ctx.tree, prefix: PREFIX },
        { id: "deploy", what: "deploy/ (11 files, to the bucket root)", tree: (ctx) => ctx.deployTree, prefix: "" },
    ];
    return fixtures.flatMap((fixture) =>
        SYNC_TOOLS.flatMap((tool): BenchCase[] => {
            const shownAs = fixture.id === "deploy" ? tool.shownAs.replace("<tree>", "deploy").replace("envs/dev/", "") : tool.shownAs;
            const rePush = (change: boolean) => (ctx: BenchContext) => timedRePush(ctx, tool, fixture, change);
            return [
                {
                    id: `${fixture.id}-full-${tool.id}`,
                    group: `Push ${fixture.what} into an empty prefix`,
                    label: tool.label,
                    slow: fixture.id === "push",
                    shownAs,
                    sample: async (ctx) => timedSync(ctx, tool.command, await ctx.moto.freshBucket(`${fixture.id}-full-${tool.id}`), fixture, mkdtempSync(path.join(ctx.scratch, "cache-"))),
                },
                {
                    id: `${fixture.id}-no-change-${tool.id}`,
                    group: `Re-push ${fixture.what}, nothing changed`,
                    label: tool.label,
                    slow: fixture.id === "push",
                    shownAs: `${shownAs}   (again, after the first push)`,
                    sample: rePush(false),
                },
                {
                    id: `${fixture.id}-one-change-${tool.id}`,
                    group: `Re-push ${fixture.what}, one file changed`,
                    label: tool.label,
                    slow: fixture.id === "push",
                    shownAs: `${shownAs}   (again, after the first push, with one file changed)`,
                    sample: rePush(true),
                },
                // A user's validation cache is not new: it holds what their other trees left.
                ...(fixture.id === "deploy" && tool.id === "bucketops"
                    ? [
                          {
                              id: "deploy-one-change-bucketops-shared-cache",
                              group: `Re-push ${fixture.what}, one file changed`,
                              label: `${tool.label}, its validation cache shared with the ${count(treeManifests)}-manifest and fleet trees`,
                              slow: false,
                              shownAs: `${shownAs}   (again, after the first push, with one file changed; BUCKETOPS_CACHE_DIR holds what \`push --dry-run\` of the ${count(treeManifests)}-manifest and fleet trees left)`,
                              sample: (ctx: BenchContext) => timedRePush(ctx, tool, fixture, true, { cache: () => copyOfSharedCache(ctx) }),
                          },
                          ...[false, true].map((change) => ({
                              id: `deploy-${change ? "one-change" : "no-change"}-${SDK_FLOOR.id}`,
                              group: `Re-push ${fixture.what}, ${change ? "one file changed" : "nothing changed"}`,
                              label: SDK_FLOOR.label,
                              slow: false,
                              shownAs: `${SDK_FLOOR.shownAs}   (again, after the first push${change ? ", with one file changed" : ""})`,
                              sample: (ctx: BenchContext) => timedRePush(ctx, SDK_FLOOR, fixture, change),
                          })),
                      ]
                    : []),
            ];
        }),
    );
};

/** The round trip the relayed cases add to every request: an S3 region nearby (from a CI runner in the bucket's own region it is a few ms; from a laptop often more). */
export const RELAY_RTT_MS = 20;

/**
 * deploy/'s re-pushes again, each request one RELAY_RTT_MS round trip longer (bench/relay.ts): what the requests a
 * command sends one after the other cost over a network, which loopback hides. The tools with bucketops' semantics
 * (one listing, MD5s) and aws-cli; the first push is untimed and direct, as above.
 */
const relayedCases = (): BenchCase[] => {
    const fixture: Fixture = { id: "relayed", what: "", tree: (ctx) => ctx.deployTree, prefix: "" };
    return SYNC_TOOLS.filter((tool) => tool.id !== "rclone").flatMap((tool) =>
        [false, true].map((change): BenchCase => ({
            id: `relayed-${change ? "one-change" : "no-change"}-${tool.id}`,
            group: `Re-push deploy/ over a ${RELAY_RTT_MS} ms round trip (a relay in front of moto), ${change ? "one file changed" : "nothing changed"}`,
            label: tool.label,
            slow: false,
            shownAs: `${tool.shownAs.replace("<tree>", "deploy").replace("envs/dev/", "").replace("<moto>", "<relay>")}   (again, after the first push${change ? ", with one file changed" : ""})`,
            sample: (ctx) => timedRePush(ctx, tool, fixture, change, { endpoint: ctx.relayed }),
        })),
    );
};

/**
 * Issue 17: a tree ten times the size, pushed once each by bucketops and aws-cli (rclone's HEAD per file takes
 * minutes). bucketops skips the kustomize build: kubectl kustomize of this tree's root alone takes about 12 minutes
 * (kustomize's time grows much faster than its input), over its 60 s limit; files and schemas are still checked.
 */
const scaleCases = ({ scaleManifests }: Sizes): BenchCase[] =>
    SYNC_TOOLS.filter((tool) => tool.id === "bucketops" || tool.id === "aws").map((tool) => {
        const command: SyncCommand = (dir, bucket, prefix, endpoint, cache) => {
            const base = tool.command(dir, bucket, prefix, endpoint, cache);
            return tool.id === "bucketops" ? { ...base, argv: [...base.argv, "--skip-build"] } : base;
        };
        return {
            id: `scale-push-${tool.id}`,
            group: `Push a tree of ${count(scaleManifests)} manifests into an empty prefix`,
            label: tool.id === "bucketops" ? "`bucketops push --skip-build`" : tool.label,
            slow: true,
            runs: 1,
            shownAs: `${tool.shownAs}${tool.id === "bucketops" ? " --skip-build" : ""}   (the ${count(scaleManifests)}-manifest tree)`,
            sample: async (ctx) =>
                timedSync(ctx, command, await ctx.moto.freshBucket(`scale-${tool.id}`), { id: "scale", what: "", tree: (c) => c.scaleTree(), prefix: PREFIX }, mkdtempSync(path.join(ctx.scratch, "cache-"))),
        };
    });

/** The tree sizes of the growth rows: a hundredth and a tenth of the scale tree (the scale case is the third). */
export const growthSizes = ({ scaleManifests }: Sizes) => [scaleManifests / 100, scaleManifests / 10];

/**
 * How a push's cost grows with the tree: `bucketops push --skip-build` (as the scale case runs) of a hundredth and a
 * tenth of the scale tree; with the scale case's row they show 200 / 2,000 / 20,000 (targets.ts: growthTarget).
 */
const growthCases = (sizes: Sizes): BenchCase[] =>
    growthSizes(sizes).map((manifests) => ({
        id: `growth-${manifests}`,
        group: "Growth: `bucketops push --skip-build` into an empty prefix, by tree size (the largest is the scale row above)",
        label: `${count(manifests)} manifests`,
        slow: true,
        shownAs: `bucketops push <tree of ${count(manifests)} manifests> s3://<bucket>/envs/dev/ --endpoint <moto> --region us-east-1 --skip-build`,
        sample: async (ctx) => {
            const command: SyncCommand = (dir, bucket, prefix, endpoint, cache) => {
                const base = bucketopsPush(dir, bucket, prefix, endpoint, cache);
                return { ...base, argv: [...base.argv, "--skip-build"] };
            };
            const fixture = { id: "growth", what: "", tree: (c: BenchContext) => c.treeOf(manifests), prefix: PREFIX };
            return timedSync(ctx, command, await ctx.moto.freshBucket(`growth-${manifests}`), fixture, mkdtempSync(path.join(ctx.scratch, "cache-")));
        },
    }));

/**
 * Issue 13: from the start of an atomic push of deploy/ to "applied": suspend the Bucket, validate and write, resume it
 * with a reconcile request, and wait until the Bucket and its Kustomization report the revision. The cluster is the
 * strict API stand-in with FluxControllers playing source-controller's loop (it lists and GETs every object from moto)
 * and kustomize-controller's (an apply that succeeds at once) (tests/support/fluxApi.ts), so the row is bucketops' own
 * cost plus that fetch: its Kubernetes requests, the suspend barrier and its polls. Against a real cluster, add
 * kustomize-controller's apply and health checks; the Bucket's interval no longer matters.
 */
const deliveryCase: BenchCase = {
    id: "delivery-deploy",
    group: "Atomic push of deploy/ until the cluster applied it (stand-in API server and Flux controllers)",
    label: "`bucketops push --kubeconfig`: suspend, write, resume, wait until applied",
    slow: false,
    shownAs: "bucketops push deploy s3://<bucket>/ --endpoint <moto> --region us-east-1 --kubeconfig <stand-in>",
    sample: async (ctx) => {
        const bucket = await ctx.moto.freshBucket("delivery");
        const tree = ctx.deployTree;
        const files = await walkFiles(tree.root, { skipFolder: () => false });
        const entries = files.map((file) => {
            const content = readFileSync(file);
            return { key: path.relative(tree.root, file).split(path.sep).join("/"), etag: createHash("md5").update(content).digest("hex") };
        });
        const revision = fluxRevision(entries, ignorePatterns(undefined, undefined));
        const api = await fluxStackApi(bucket, ctx.moto.endpoint, { path: "./clusters/dev", kustomization: "flux-bucket" });
        const controllers = FluxControllers.start(api, { s3Endpoint: ctx.moto.endpoint });
        const kubeconfig = path.join(mkdtempSync(path.join(ctx.scratch, "kube-")), "kubeconfig");
        writeFileSync(kubeconfig, api.kubeconfig());
        try {
            const command = bucketopsPush(tree.root, bucket, "", ctx.moto.endpoint, mkdtempSync(path.join(ctx.scratch, "cache-")));
            const timed = await runOrFail({ ...command, argv: [...command.argv, "--kubeconfig", kubeconfig] });
            if (api.kustomizations[0].status.lastAppliedRevision !== revision) throw new Error("the push exited before the Kustomization applied it");
            return { ms: timed.ms };
        } finally {
            controllers.stop();
            api.close();
        }
    },
};

/** Whole-process timings of what a push does before it uploads, to show where its time goes. */
const pushPartsCases = ({ treeManifests }: Sizes): BenchCase[] => {
    const group = `Where a \`bucketops push\` of ${count(treeManifests)} manifests spends its time`;
    const timed = async (command: Command): Promise<Sample> => ({ ms: (await runOrFail(command)).ms });
    return [
        {
            id: "parts-startup",
            group,
            label: "`bucketops --help`: start Node, load every CLI module",
            slow: false,
            shownAs: "bin/bucketops.js --help",
            sample: () => timed(bucketopsCommand(["--help"])),
        },
        {
            id: "parts-kustomize",
            group,
            label: "`kubectl kustomize` of the tree's root, alone (one step of push's validation)",
            slow: true,
            shownAs: "kubectl kustomize --load-restrictor=LoadRestrictionsNone <tree>",
            sample: (ctx) => timed({ argv: [process.env.KUBECTL ?? "kubectl", "kustomize", "--load-restrictor=LoadRestrictionsNone", ctx.tree.root] }),
        },
        {
            id: "parts-dry-run",
            group,
            label: "`bucketops push --dry-run` into an empty prefix: all but the uploads",
            slow: true,
            shownAs: "bucketops push <tree> s3://<bucket>/envs/dev/ --endpoint <moto> --region us-east-1 --dry-run",
            sample: async (ctx) => {
                const bucket = await ctx.moto.freshBucket("dry-run");
                const command = bucketopsPush(ctx.tree.root, bucket, PREFIX, ctx.moto.endpoint);
                const { result, requests } = await ctx.moto.recordRequests(() => runOrFail({ ...command, argv: [...command.argv, "--dry-run"] }));
                return { ms: result.ms, requests };
            },
        },
    ];
};

const revisionCase = ({ revisionObjects }: Sizes): BenchCase => ({
    id: "revision",
    group: `\`bucketops revision\` over ${count(revisionObjects)} objects`,
    label: "`bucketops revision`",
    slow: false,
    shownAs: "bucketops revision s3://<bucket>/envs/dev/ --endpoint <moto> --region us-east-1",
    sample: async (ctx) => {
        const bucket = await ctx.revisionBucket();
        const command = bucketopsCommand(["revision", `s3://${bucket}/${PREFIX}`, "--endpoint", ctx.moto.endpoint, "--region", "us-east-1"]);
        const { result, requests } = await ctx.moto.recordRequests(() => runOrFail(command));
        return { ms: result.ms, requests };
    },
});

/** Releases in the history case's prefix: the issue's 1,000. */
export const HISTORY_RELEASES = 1000;

/**
 * `bucketops history` of a prefix with HISTORY_RELEASES releases of an 11-file tree, one file changed by each. The
 * releases are written by bucketops' own writer (S3Store.put, then writeRelease with the manifest), without the lease
 * and validation a push adds, so the fixture takes seconds instead of a thousand pushes.
 */
const historyCases: BenchCase[] = (["cold", "warm", "cold-relayed"] as const).map((variant) => ({
    id: `history-releases-${variant}`,
    group: `\`bucketops history\` of ${count(HISTORY_RELEASES)} releases`,
    label: {
        cold: "`bucketops history --json`, first run (no release cache: one record read per 33 releases)",
        warm: "`bucketops history --json`, records read before (release cache)",
        "cold-relayed": `the first run again over a ${RELAY_RTT_MS} ms round trip (the relay in front of moto)`,
    }[variant],
    slow: true,
    shownAs: `bucketops history s3://<bucket>/envs/dev/ --json --endpoint ${variant === "cold-relayed" ? "<relay>" : "<moto>"} --region us-east-1`,
    sample: async (ctx) => {
        const bucket = await ctx.historyBucket();
        const cache = variant === "warm" ? "warm" : "cold";
        const endpoint = variant === "cold-relayed" ? await ctx.relayed() : ctx.moto.endpoint;
        const command = bucketopsCommand(["history", `s3://${bucket}/${PREFIX}`, "--json", "--endpoint", endpoint, "--region", "us-east-1"]);
        // cold: a cache folder of its own each run; warm: one folder, filled by a run that is not measured.
        const dir = path.join(ctx.scratch, `history-cache-${cache === "cold" ? Math.random().toString(36).slice(2) : "warm"}`);
        const cached = { ...command, env: { ...command.env, BUCKETOPS_CACHE_DIR: dir } };
        if (cache === "warm") await runOrFail(cached);
        const { result, requests } = await ctx.moto.recordRequests(() => runOrFail(cached));
        const states = JSON.parse(result.output) as { number?: number }[];
        if (states.length !== HISTORY_RELEASES || states.at(-1)?.number !== HISTORY_RELEASES) {
            throw new Error(`history listed ${states.length} state(s), the last numbered ${states.at(-1)?.number}: expected ${HISTORY_RELEASES} releases`);
        }
        return { ms: result.ms, requests };
    },
}));

/** Fills `bucket` with HISTORY_RELEASES releases under PREFIX (see historyCase). */
export async function writeReleases(endpoint: string, bucket: string): Promise<void> {
    const store = new S3Store(parseBucketUrl(`s3://${bucket}/${PREFIX}`), { endpoint, region: "us-east-1" });
    try {
        const put = (key: string, text: string) => {
            const body = Buffer.from(text);
            return store.put(key, body, { md5: createHash("md5").update(body).digest(), contentType: "application/yaml" });
        };
        let objects = await Promise.all(Array.from({ length: 11 }, (_, i) => put(`${PREFIX}f-${i}.yaml`, `n: ${i}\nrelease: 0\n`)));
        for (let release = 1; release <= HISTORY_RELEASES; release++) {
            const before = objects;
            const i = release % objects.length;
            const changed = await put(objects[i].key, `n: ${i}\nrelease: ${release}\n`);
            objects = objects.map((entry, j) => (j === i ? changed : entry));
            await writeRelease(store, PREFIX, {
                command: "push",
                revision: fluxRevision(objects, []),
                added: release === 1 ? objects.map((entry) => entry.key) : [],
                modified: release === 1 ? [] : [changed.key],
                removed: [],
                objects,
                before: { objects: release === 1 ? [] : before, revision: fluxRevision(release === 1 ? [] : before, []) },
            });
        }
    } finally {
        store.close();
    }
}

/** A command run in the repository with a fresh --out folder each time. */
function renderCase(id: string, label: string, argv: (out: string) => string[], shownAs: string): BenchCase {
    return {
        id,
        group: "Offline render (Pulumi mock runtime), whole process",
        label,
        slow: false,
        shownAs,
        sample: async (ctx) => {
            const out = mkdtempSync(path.join(ctx.scratch, `${id}-`));
            try {
                return { ms: (await runOrFail({ argv: argv(out) })).ms };
            } finally {
                rmSync(out, { recursive: true, force: true });
            }
        },
    };
}

const renderCases: BenchCase[] = [
    renderCase(
        "render-baseline",
        "baseline: one `aws.s3.Bucket` via `runOffline`",
        () => [process.execPath, "bench/baseline.js"],
        "node bench/baseline.js",
    ),
    ...["dev", "gcp-dev"].map((stack) =>
        renderCase(
            `render-${stack}`,
            `\`npm run render -- --stack ${stack}\``,
            (out) => ["npm", "run", "--silent", "render", "--", "--stack", stack, "--out", out],
            `npm run render -- --stack ${stack} --out <tmp>`,
        ),
    ),
    renderCase(
        "render-dev-direct",
        "the same for dev without npm (`node src/render/main.ts`)",
        (out) => [process.execPath, "src/render/main.ts", "--stack", "dev", "--out", out],
        "node src/render/main.ts --stack dev --out <tmp>",
    ),
    renderCase(
        "render-100-environments",
        "an aws infra stack with 100 environments (800 resources) and one environment's flux stack",
        (out) => [process.execPath, "bench/renderEnvironments.ts", "100", out],
        "node bench/renderEnvironments.ts 100 <tmp>",
    ),
];

const testSuiteCase: BenchCase = {
    id: "test-suite",
    group: "Test suite",
    label: "`npm test` (tsc --noEmit, then every tests/**/*.test.ts)",
    slow: true,
    runs: 1,
    shownAs: "npm test",
    sample: async () => {
        const timed = await timeCommand({ argv: ["npm", "test"] });
        if (timed.exitCode === 0) return { ms: timed.ms };
        const summary = timed.output.match(/^\d+ passed, \d+ failed$/m)?.[0];
        // The spec reporter marks a failed test "✖ <name> (<duration>)", once where it ran and once in its summary.
        const failed = [...new Set([...timed.output.matchAll(/^\s*✖ (.+?) \(\d[\d.]*m?s\)$/gm)].map((m) => m[1]))];
        const named = failed.length ? `: ${failed.slice(0, 3).join("; ")}${failed.length > 3 ? "; …" : ""}` : "";
        return { ms: timed.ms, failure: `exit code ${timed.exitCode}${summary ? `, ${summary}` : ""}${named}` };
    },
};

/** Every measured row, in table order. A new measurement is one more entry here. */
/**
 * Issue 23: a fleet tree of the size and shape of the largest repository of docs/validation-corpus.md (757 files,
 * 84 Flux Kustomizations reading the Bucket, each built as Flux builds it), pushed to the bucket root by bucketops
 * (validation on, an empty validation cache) and by aws-cli, then again with nothing changed.
 */
const fleetCases = (): BenchCase[] =>
    SYNC_TOOLS.filter((tool) => tool.id === "bucketops" || tool.id === "aws").flatMap((tool): BenchCase[] => {
        const fixture: Fixture = { id: "fleet", what: "", tree: (ctx) => ctx.fleetTree(), prefix: "" };
        const shownAs = `${tool.shownAs.replace("envs/dev/", "")}   (the 757-file fleet tree)`;
        return [
            {
                id: `fleet-full-${tool.id}`,
                group: "Push a fleet tree (757 files, 84 Flux Kustomizations) into an empty bucket",
                label: tool.label,
                slow: true,
                shownAs,
                sample: async (ctx) => timedSync(ctx, tool.command, await ctx.moto.freshBucket(`fleet-full-${tool.id}`), fixture, mkdtempSync(path.join(ctx.scratch, "cache-"))),
            },
            {
                id: `fleet-no-change-${tool.id}`,
                group: "Re-push the fleet tree, nothing changed",
                label: tool.label,
                slow: true,
                shownAs: `${shownAs}   (again, after the first push)`,
                sample: (ctx) => timedRePush(ctx, tool, fixture, false),
            },
        ];
    });

export const benchCases = (sizes: Sizes): BenchCase[] => [...pushCases(sizes), ...relayedCases(), ...fleetCases(), ...scaleCases(sizes), ...growthCases(sizes), deliveryCase, ...pushPartsCases(sizes), revisionCase(sizes), ...historyCases, ...renderCases, testSuiteCase];

