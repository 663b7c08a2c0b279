import * as pulumi from "@pulumi/pulumi";
import { type FakeContext, fakeCalls, fakeId, fakeState } from "./fakeState.ts";

/**
 * An offline engine: runs a Pulumi program in-process under `pulumi.runtime.setMocks`, with no CLI, no
 * provider plugin and no credentials, and records every resource the program registers (inputs, which of them
 * are secret, parent and dependencies). Used by the tests and by `npm run render`; nothing is created anywhere.
 */

export interface StackReferenceOutputs {
    outputs: Record<string, unknown>;
    secretOutputNames?: string[];
}

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** Custom resources are cloud or cluster objects; the others are components. */
    custom: boolean;
    parent?: string;
    inputs: Record<string, any>;
    /** Dotted paths of inputs the program marked secret, e.g. `stringData.secretkey`. */
    secretInputs: string[];
    /** URNs this resource waits for (`dependsOn`, expanded over components, and input dependencies). */
    dependencies: string[];
    /** Reference of the explicit provider, if any. */
    provider?: string;
}

export interface OfflineRunOptions {
    project: string;
    stack: string;
    organization?: string;
    /** Full keys such as `flux-bucket:provider`, values as strings (what `pulumi config` holds). */
    config: Record<string, string>;
    secretKeys?: string[];
    /** What each StackReference name resolves to. */
    stackReferences?: Record<string, StackReferenceOutputs>;
}

export interface OfflineRun {
    outputs: Record<string, unknown>;
    secretOutputs: string[];
    resources: RecordedResource[];
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Walks a serialized property map, collecting secret values as dotted paths and returning the plain values. */
function unwrapSecrets(value: any, path: string, secrets: string[]): any {
    if (Array.isArray(value)) return value.map((item, i) => unwrapSecrets(item, `${path}[${i}]`, secrets));
    if (value === null || typeof value !== "object") return value;
    if (value[SECRET_SIG_KEY] === SECRET_SIG) {
        secrets.push(path);
        return unwrapSecrets(value.value, path, []);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, secrets)]));
}

class OfflineMocks implements pulumi.runtime.Mocks {
    private readonly awsRegions = new Map<string, string>();

    private readonly stackReferences: Record<string, StackReferenceOutputs>;

    constructor(stackReferences: Record<string, StackReferenceOutputs>) {
        this.stackReferences = stackReferences;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        if (args.type === "pulumi:pulumi:StackReference") {
            const reference = this.stackReferences[args.inputs.name];
            if (!reference) throw new Error(`stack "${args.inputs.name}" does not exist (offline run knows: ${Object.keys(this.stackReferences).join(", ") || "none"})`);
            return { id: args.inputs.name, state: { name: args.inputs.name, outputs: reference.outputs, secretOutputNames: reference.secretOutputNames ?? [] } };
        }
        if (args.type === "pulumi:providers:aws" && args.inputs.region) this.awsRegions.set(args.name, args.inputs.region);
        const context: FakeContext = { awsRegion: args.provider ? this.awsRegions.get(args.provider.split("::")[3]) : undefined };
        const state = fakeState(args, context);
        return { id: fakeId(args.type, args.name, state), state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        const answer = fakeCalls[args.token];
        if (answer) return answer(args.inputs);
        throw new Error(`offline run: the program called ${args.token}, which has no offline answer`);
    }
}

/** Records every resource the program registers or reads, and knows when no request is left in flight. */
function recordRegistrations(): { resources: RecordedResource[]; settled: () => Promise<void> } {
    const monitor = pulumi.runtime.getMonitor() as any;
    const resources: RecordedResource[] = [];
    const inFlight = new Set<Promise<void>>();

    // A registration (create or update) and a read (StackReference, `get`) carry the same request fields.
    const record = (send: (req: any, callback: (err: any, resp: any) => void) => void, read: boolean) =>
        (req: any, callback: (err: any, resp: any) => void) => {
            const secretInputs: string[] = [];
            const inputs = unwrapSecrets((read ? req.getProperties() : req.getObject())?.toJavaScript() ?? {}, "", secretInputs);
            const done = new Promise<void>((resolve) => {
                send(req, (err: any, resp: any) => {
                    if (!err) {
                        resources.push({
                            urn: resp.getUrn(),
                            type: req.getType(),
                            name: req.getName(),
                            custom: read || req.getCustom(),
                            parent: req.getParent() || undefined,
                            inputs,
                            secretInputs,
                            dependencies: req.getDependenciesList(),
                            provider: req.getProvider() || undefined,
                        });
                    }
                    resolve();
                    callback(err, resp);
                });
            });
            inFlight.add(done);
            done.then(() => inFlight.delete(done));
        };
    monitor.registerResource = record(monitor.registerResource.bind(monitor), false);
    monitor.readResource = record(monitor.readResource.bind(monitor), true);

    // The SDK's own queue of outstanding RPCs (internal, so untyped): registrations start some ticks after
    // a resource is constructed, so an empty in-flight set alone does not mean the program is done.
    const waitForRPCs: () => Promise<void> = (pulumi.runtime as any).waitForRPCs;
    const settled = async () => {
        await waitForRPCs();
        while (inFlight.size > 0) {
            await Promise.all(inFlight);
            await new Promise((resolve) => setImmediate(resolve));
        }
    };
    return { resources, settled };
}

async function resolveOutputs(value: unknown): Promise<{ outputs: Record<string, unknown>; secretOutputs: string[] }> {
    const entries = Object.entries((value ?? {}) as Record<string, unknown>);
    const resolved = await Promise.all(
        entries.map(async ([key, raw]) => {
            const output = pulumi.output(raw) as pulumi.Output<unknown>;
            const plain = await new Promise<unknown>((resolve) => output.apply((v) => resolve(v)));
            return { key, plain, secret: await pulumi.isSecret(output) };
        }),
    );
    return {
        outputs: Object.fromEntries(resolved.filter(({ plain }) => plain !== undefined).map(({ key, plain }) => [key, plain])),
        secretOutputs: resolved.filter(({ secret, plain }) => secret && plain !== undefined).map(({ key }) => key),
    };
}

/** Runs `program` (a stack's program function) offline and returns its outputs and every resource it registered. */
export async function runOffline(program: () => unknown, options: OfflineRunOptions): Promise<OfflineRun> {
    await pulumi.runtime.setMocks(new OfflineMocks(options.stackReferences ?? {}), options.project, options.stack, false, options.organization ?? "organization");
    pulumi.runtime.setAllConfig(options.config, options.secretKeys);
    const { resources, settled } = recordRegistrations();

    const { outputs, secretOutputs } = await resolveOutputs(await program());
    await settled();
    return { outputs, secretOutputs, resources };
}
