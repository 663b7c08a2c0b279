import { type OfflineRun, type RecordedResource, type StackReferenceOutputs, runOffline } from "../../src/offline/engine.ts";
import program from "../../stacks/index.ts";

export const PROJECT = "flux-bucket";
export const ORGANIZATION = "organization";

/** Infra config for a MinIO-style bucket on an existing cluster: nothing provisioned, everything passed through. */
export const GENERIC_ON_EXISTING_CLUSTER = {
    cluster: "existing",
    kubeconfig: "apiVersion: v1\nkind: Config\n",
    provider: "generic",
    bucketName: "manifests",
    endpoint: "minio.internal:9000",
    insecure: "true",
    accessKey: "flux",
    secretKey: "flux-secret",
};

const namespaced = (config: Record<string, string>) =>
    Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, value]));

/** Runs the stacks' program offline as the infra layer, with `config` keys given without the namespace. */
export function runInfra(config: Record<string, string>, stack = "dev"): Promise<OfflineRun> {
    return runOffline(program, { project: PROJECT, stack, config: namespaced({ layer: "infra", ...config }) });
}

/** Runs the program as the flux layer against the given infra stack outputs (`organization/flux-bucket/dev` by default). */
export function runFlux(
    config: Record<string, string>,
    infra: StackReferenceOutputs,
    options: { stack?: string; infraStack?: string } = {},
): Promise<OfflineRun> {
    return runOffline(program, {
        project: PROJECT,
        stack: options.stack ?? "dev-flux",
        config: namespaced({ layer: "flux", ...config }),
        stackReferences: { [options.infraStack ?? `${ORGANIZATION}/${PROJECT}/dev`]: infra },
    });
}

/** The infra outputs as a StackReference would serve them. */
export function asStackReference(run: OfflineRun): StackReferenceOutputs {
    return { outputs: run.outputs, secretOutputNames: run.secretOutputs };
}

export function ofType(run: { resources: RecordedResource[] }, type: string): RecordedResource[] {
    return run.resources.filter((resource) => resource.type === type);
}

/** The one resource of this type (and name); fails the test if there is not exactly one. */
export function only(run: { resources: RecordedResource[] }, type: string, name?: string): RecordedResource {
    const found = ofType(run, type).filter((resource) => name === undefined || resource.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    return found[0];
}

/** Whether Pulumi creates `resource` only after `other`: a dependency, or a dependency of a dependency. */
export function waitsFor(run: { resources: RecordedResource[] }, resource: RecordedResource, other: RecordedResource): boolean {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const seen = new Set<string>();
    const pending = [...resource.dependencies];
    for (let urn = pending.pop(); urn !== undefined; urn = pending.pop()) {
        if (urn === other.urn) return true;
        if (seen.has(urn)) continue;
        seen.add(urn);
        pending.push(...(byUrn.get(urn)?.dependencies ?? []));
    }
    return false;
}

/** Runs a component-building function offline, as its own tiny program. */
export function runComponents(build: () => unknown, stack = "test"): Promise<OfflineRun> {
    return runOffline(build, { project: PROJECT, stack, config: {} });
}

/** The value an Output resolves to (offline, every Output resolves). */
export function valueOf<T>(output: { apply<U>(f: (value: T) => U): unknown }): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}
