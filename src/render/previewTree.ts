import type { RecordedResource } from "../offline/engine.ts";

/** Resources Pulumi reads rather than creates (`>-` read in a preview). */
const READ_TYPES = new Set(["pulumi:pulumi:StackReference"]);

/**
 * The resources of one offline run in the shape of `pulumi preview` of a new stack: the stack at the root, each
 * component with its children below it (registration order, the tree drawn as Pulumi draws it), each line `+` create
 * (or `>-` read), then the summary, whose count includes the stack itself as Pulumi's does.
 */
export function previewTree(project: string, stack: string, resources: RecordedResource[]): string[] {
    const children = new Map<string | undefined, RecordedResource[]>();
    const urns = new Set(resources.map(({ urn }) => urn));
    for (const resource of resources) {
        // A parent that is not recorded is the stack itself.
        const parent = resource.parent !== undefined && urns.has(resource.parent) ? resource.parent : undefined;
        const siblings = children.get(parent);
        if (siblings) siblings.push(resource);
        else children.set(parent, [resource]);
    }
    const rows: [string, string, boolean][] = [["pulumi:pulumi:Stack", `${project}-${stack}`, false]];
    const walk = (parent: string | undefined, indent: string) => {
        const list = children.get(parent) ?? [];
        list.forEach((resource, i) => {
            const last = i === list.length - 1;
            rows.push([`${indent}${last ? "└─ " : "├─ "}${resource.type}`, resource.name, READ_TYPES.has(resource.type)]);
            walk(resource.urn, `${indent}${last ? "   " : "│  "}`);
        });
    };
    walk(undefined, "");
    const width = Math.max(...rows.map(([type]) => type.length)) + 2;
    const nameWidth = Math.max(...rows.map(([, name]) => name.length)) + 2;
    return [
        `     ${"Type".padEnd(width)}${"Name".padEnd(nameWidth)}Plan`,
        ...rows.map(([type, name, read]) => ` ${read ? ">-" : "+ "}  ${type.padEnd(width)}${name.padEnd(nameWidth)}${read ? "read" : "create"}`),
        "",
        "Resources:",
        `    + ${rows.filter(([, , read]) => !read).length} to create`,
    ];
}
