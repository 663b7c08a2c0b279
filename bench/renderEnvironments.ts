/**
 * Renders an infra stack with N environments and the flux stack of one of them, as `npm run render` does, from
 * a scratch project (this repository's Pulumi.yaml and deploy/, generated stack files).
 * Usage: node bench/renderEnvironments.ts <count> <out dir>
 */
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { writeFolder } from "../src/render/output.ts";
import { renderStack } from "../src/render/render.ts";

async function main(count: number, out: string): Promise<void> {
    const repository = path.resolve(import.meta.dirname, "..");
    const root = mkdtempSync(path.join(tmpdir(), "render-environments-"));
    try {
        cpSync(path.join(repository, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
        symlinkSync(path.join(repository, "deploy"), path.join(root, "deploy"));
        const environments = Array.from({ length: count }, (_, i) => `env-${i + 1}`);
        const stackFile = (config: Record<string, unknown>) => stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`flux-bucket:${k}`, v])) });
        writeFileSync(path.join(root, "Pulumi.fleet.yaml"), stackFile({ layer: "infra", provider: "aws", environments }));
        writeFileSync(path.join(root, "Pulumi.fleet-flux.yaml"), stackFile({ layer: "flux", environment: environments[count - 1] }));
        const rendered = await renderStack(root, "fleet");
        writeFolder(path.join(out, "fleet"), rendered.files);
        console.log(`${rendered.stacks[0].run.resources.length} infra resources for ${count} environments`);
    } finally {
        rmSync(root, { recursive: true, force: true });
    }
}

main(Number(process.argv[2]), process.argv[3]).catch((error) => {
    console.error(error);
    process.exit(1);
});
