import { Command } from "commander";
import module from "node:module";
import path from "node:path";
import { UserError } from "../errors.ts";
import { writeFolder } from "./output.ts";
import { previewTree } from "./previewTree.ts";
import type { RenderedStack } from "./render.ts";

// The compile cache keeps the compiled code of the Pulumi SDK, the providers and the stacks between runs, most of a
// render's start-up. bin/render.js (`npm run render`) switched it on already, before any TypeScript; this is for
// `node src/render/main.ts`, before the SDK loads.
module.enableCompileCache?.();

/** What `pulumi preview` would show for each stack, then the files written and how to apply them for real. */
function summary(stack: string, out: string, rendered: RenderedStack): string {
    const lines: string[] = [];
    for (const { name, run } of rendered.stacks) lines.push(`Previewing ${name} (offline):`, "", ...previewTree(rendered.project, name, run.resources), "");
    lines.push(`Rendered ${rendered.stacks.map(({ name }) => name).join(" and ")} offline into ${out}/`);
    const folders = new Map<string, number>();
    for (const [folder] of [...rendered.files.keys()].map((file) => file.split("/"))) folders.set(folder, (folders.get(folder) ?? 0) + 1);
    lines.push("", "Files:");
    for (const [folder, count] of folders) lines.push(`  ${path.join(out, folder)}  (${count} file${count > 1 ? "s" : ""})`);
    lines.push(
        "",
        `Every Kubernetes object and the deploy/ tree passed the Kubernetes and Flux schema checks.`,
        `Nothing was created: this was an offline run with mocked providers and fake ids; secrets show as <redacted>.`,
        `To apply it for real: npm run up -- --stack ${stack} --tree deploy (or pulumi up --stack ${stack}${rendered.stacks.length > 1 ? `, then pulumi up --stack ${rendered.stacks[1].name}` : ""}).`,
    );
    return lines.join("\n");
}

async function main(argv: string[]): Promise<void> {
    const program = new Command("render")
        .description("Run the infra stack and its flux stack offline (no cloud account, nothing created) and write what they would apply")
        .option("-s, --stack <name>", "infra stack to render, read from Pulumi.<name>.yaml; its flux stack is <name>-flux", "dev")
        .option("-o, --out <dir>", "output folder; the files go to <dir>/<stack>", "out")
        .showHelpAfterError();
    program.parse(argv);
    const { stack, out } = program.opts<{ stack: string; out: string }>();

    const root = path.resolve(import.meta.dirname, "../..");
    // Loaded only now, after the arguments are read: the Pulumi SDK and providers take a while. The manifest checks run
    // in this thread (renderStack's inline checks): a worker cost more CPU than it saved (BENCHMARKS.md, "Render start-up").
    const { renderStack } = await import("./render.ts");
    const rendered = await renderStack(root, stack);
    const target = path.resolve(out, stack);
    writeFolder(target, rendered.files);
    console.log(summary(stack, path.relative(process.cwd(), target) || ".", rendered));
}

main(process.argv).catch((error: unknown) => {
    const known = error instanceof UserError;
    console.error(`render: ${known ? (error as Error).message : (error as Error)?.stack ?? error}`);
    console.error("Nothing was written.");
    process.exit(1);
});
