import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import { type OfflineRun, type RecordedResource, runOffline } from "../offline/engine.ts";
import { type RenderChecks, inlineChecks } from "./checks.ts";
import { RenderError } from "./errors.ts";
import { REDACTED, redactPaths } from "./redact.ts";
import { type StackConfig, readStackFile, stackFilePath } from "./stackFile.ts";
import { ConfigError } from "../../stacks/config/errors.ts";
import program, { readStackConfig } from "../../stacks/index.ts";

const ORGANIZATION = "organization";
const FLUX_SUFFIX = "-flux";

export interface RenderedStack {
    /** The Pulumi project's name (Pulumi.yaml). */
    project: string;
    /** Relative path in the output folder → file content. */
    files: Map<string, string>;
    /** The stacks that were run, e.g. `dev` and `dev-flux`. */
    stacks: { name: string; run: OfflineRun }[];
}

interface RunInput {
    name: string;
    stackConfig: StackConfig;
}

const layerOf = ({ config }: StackConfig) => config["flux-bucket:layer"];

/** Reads the infra stack's file and, if there is one, its flux stack's (`<stack>-flux`), checking they fit together. */
function stacksToRun(root: string, stack: string): { infra: RunInput; flux?: RunInput } {
    const infra = readStackFile(root, stack);
    if (layerOf(infra) !== "infra") {
        const hint = stack.endsWith(FLUX_SUFFIX) ? `; pass its infra stack, ${stack.slice(0, -FLUX_SUFFIX.length)}, and both are rendered` : "";
        throw new RenderError(`Pulumi.${stack}.yaml is not an infra stack (flux-bucket:layer is "${layerOf(infra) ?? ""}", render wants "infra")${hint}`);
    }
    const fluxName = `${stack}${FLUX_SUFFIX}`;
    if (!stackFilePath(root, fluxName)) return { infra: { name: stack, stackConfig: infra } };

    const flux = readStackFile(root, fluxName);
    if (layerOf(flux) !== "flux") throw new RenderError(`Pulumi.${fluxName}.yaml must have flux-bucket:layer "flux"`);
    const reads = flux.config["flux-bucket:infraStack"];
    if (reads !== undefined && reads.split("/").pop() !== stack) {
        throw new RenderError(`Pulumi.${fluxName}.yaml reads the infra stack "${reads}", not "${stack}"`);
    }
    return { infra: { name: stack, stackConfig: infra }, flux: { name: fluxName, stackConfig: flux } };
}

/** Every config problem of both stack files in one error, before either stack runs. */
function checkConfigs(project: string, inputs: RunInput[]): void {
    const errors = inputs.flatMap((input) => {
        try {
            readStackConfig(input.stackConfig.config, { organization: ORGANIZATION, project, stack: input.name });
            return [];
        } catch (error) {
            if (error instanceof ConfigError) return [error];
            throw error;
        }
    });
    if (errors.length > 0) throw ConfigError.combine(errors);
}

const label = (resource: RecordedResource) => `${resource.type}::${resource.name}`;

function resourceList(stack: string, run: OfflineRun) {
    const byUrn = new Map(run.resources.map((resource) => [resource.urn, resource]));
    return run.resources.map((resource) => {
        const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
        return {
            stack,
            type: resource.type,
            name: resource.name,
            parent: parent ? label(parent) : null,
            properties: redactPaths(resource.inputs, resource.secretInputs),
        };
    });
}

const fileName = (...parts: string[]) => parts.filter(Boolean).join("-").toLowerCase().replace(/[^a-z0-9.-]+/g, "-");

/** What the Kubernetes provider would apply, one object per file; the Helm release as its chart and values. */
function kubernetesFiles(run: OfflineRun): { path: string; object: Record<string, any> }[] {
    return run.resources
        .filter((resource) => resource.custom && resource.type.startsWith("kubernetes:"))
        .map((resource) => {
            const object = redactPaths(resource.inputs, resource.secretInputs);
            if (resource.type === "kubernetes:helm.sh/v3:Release") {
                const { name, chart, version, repositoryOpts, namespace, values } = object;
                return { path: `helm/${fileName(name)}.yaml`, object: { release: name, namespace, chart, version, repository: repositoryOpts?.repo, values } };
            }
            const { apiVersion, kind, metadata, ...rest } = object;
            return { path: `kubernetes/${fileName(kind, metadata?.namespace, metadata?.name)}.yaml`, object: { apiVersion, kind, metadata, ...rest } };
        });
}

const POLICY_TYPES: Record<string, (inputs: Record<string, any>) => unknown> = {
    "aws:iam/userPolicy:UserPolicy": (inputs) => JSON.parse(inputs.policy),
    "aws:iam/rolePolicy:RolePolicy": (inputs) => JSON.parse(inputs.policy),
    // A role's trust policy: who may assume it (for workload identity, which cluster service account or CI job).
    "aws:iam/role:Role": (inputs) => JSON.parse(inputs.assumeRolePolicy),
    "aws:s3/bucketPolicy:BucketPolicy": (inputs) => JSON.parse(inputs.policy),
    "gcp:projects/iAMCustomRole:IAMCustomRole": ({ roleId, title, permissions }) => ({ roleId, title, permissions }),
    "gcp:storage/bucketIAMMember:BucketIAMMember": ({ bucket, role, member }) => ({ bucket, role, member }),
    "gcp:serviceaccount/iAMMember:IAMMember": ({ serviceAccountId, role, member }) => ({ serviceAccountId, role, member }),
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": ({ workloadIdentityPoolProviderId, attributeMapping, attributeCondition, oidc }) => ({
        workloadIdentityPoolProviderId,
        attributeMapping,
        attributeCondition,
        oidc,
    }),
};

function policyFiles(run: OfflineRun): Map<string, string> {
    return new Map(
        run.resources
            .filter((resource) => resource.type in POLICY_TYPES)
            .map((resource) => [
                `policies/${fileName(resource.type.split(":").pop()!, resource.name)}.json`,
                `${JSON.stringify(POLICY_TYPES[resource.type](resource.inputs), null, 2)}\n`,
            ]),
    );
}

function redactedOutputs(run: OfflineRun): Record<string, unknown> {
    return Object.fromEntries(Object.entries(run.outputs).map(([key, value]) => [key, run.secretOutputs.includes(key) ? REDACTED : value]));
}

function runStack(project: string, input: RunInput, stackReferences: Record<string, OfflineRun> = {}): Promise<OfflineRun> {
    return runOffline(program, {
        project,
        stack: input.name,
        organization: ORGANIZATION,
        config: input.stackConfig.config,
        secretKeys: input.stackConfig.secretKeys,
        stackReferences: Object.fromEntries(
            Object.entries(stackReferences).map(([name, run]) => [name, { outputs: run.outputs, secretOutputNames: run.secretOutputs }]),
        ),
    });
}

/**
 * Runs the infra stack and its flux stack, as configured by the stack files in `root`, offline, with the infra outputs feeding the flux stack's
 * StackReference, and returns every file to write. Every Kubernetes object and the `deploy/` tree are
 * validated (by `checks`, inline unless the caller brings its own); any problem throws before anything is
 * written.
 */
export async function renderStack(root: string, stack: string, checks: RenderChecks = inlineChecks(root)): Promise<RenderedStack> {
    const { infra, flux } = stacksToRun(root, stack);
    const project: string = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")).name;
    checkConfigs(project, [infra, ...(flux ? [flux] : [])]);
    // Settled at once, so that a failing stack run does not leave it rejected and unobserved.
    const deployOutcome = checks.deploy().then(() => undefined, (error: unknown) => error);

    const infraRun = await runStack(project, infra);
    const stacks = [{ name: infra.name, run: infraRun }];
    if (flux) {
        const references = { [`${ORGANIZATION}/${project}/${infra.name}`]: infraRun };
        const explicit = flux.stackConfig.config["flux-bucket:infraStack"];
        if (explicit) references[explicit] = infraRun;
        stacks.push({ name: flux.name, run: await runStack(project, flux, references) });
    }

    const files = new Map<string, string>();
    files.set("resources.json", `${JSON.stringify(stacks.flatMap(({ name, run }) => resourceList(name, run)), null, 2)}\n`);
    files.set("outputs.json", `${JSON.stringify(Object.fromEntries(stacks.map(({ name, run }) => [name, redactedOutputs(run)])), null, 2)}\n`);
    const objects = stacks.flatMap(({ run }) => kubernetesFiles(run));
    for (const { path: file, object } of objects) files.set(file, stringify(object, { lineWidth: 0 }));
    for (const { run } of stacks) for (const [file, content] of policyFiles(run)) files.set(file, content);

    await checks.objects(objects.filter(({ path: file }) => file.startsWith("kubernetes/")).map(({ path: file, object }) => ({ file: `out/${stack}/${file}`, object })));
    const deployProblem = await deployOutcome;
    if (deployProblem) throw deployProblem;
    return { project, files, stacks };
}
