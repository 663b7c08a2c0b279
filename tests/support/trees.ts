import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** Manifest trees for the tests and the bench: written from a record of files, or generated at any size. */

/** The files (relative path → body) as the keys they get under `prefix`. */
export function prefixed(prefix: string, files: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(files).map(([name, body]) => [prefix + name, body]));
}

/** A temporary directory holding `files` (relative path → content). */
export function writeTree(files: Record<string, string>, root = mkdtempSync(path.join(tmpdir(), "bucketops-tree-"))): string {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
        const file = path.join(root, name);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, content);
    }
    return root;
}

export function configMap(name: string, value: string): string {
    return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n  value: "${value}"\n`;
}

function kustomization(resources: string[]): string {
    return `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}\n`).join("")}`;
}

/** A valid tree: a kustomization over n ConfigMaps whose data carries `tag`. */
export function manifestTree(names: string[], tag: string): Record<string, string> {
    const files: Record<string, string> = { "kustomization.yaml": kustomization(names.map((name) => `${name}.yaml`)) };
    for (const name of names) files[`${name}.yaml`] = configMap(name, `${name}-${tag}`);
    return files;
}

export interface ManifestTree {
    root: string;
    /** Every file of the tree, kustomization.yaml files included. */
    fileCount: number;
    manifestCount: number;
    /** The ConfigMap the one-change case edits. */
    changedFile: string;
}

const PER_FOLDER = 100;

/**
 * A valid kustomize tree of `manifests` small ConfigMaps in folders of 100, each folder with its
 * kustomization.yaml, and a root kustomization.yaml over the folders (what `bucketops push` validates).
 */
export function writeManifestTree(root: string, manifests: number): ManifestTree {
    const folders: string[] = [];
    for (let first = 0; first < manifests; first += PER_FOLDER) {
        const folder = `app-${String(folders.length).padStart(3, "0")}`;
        folders.push(folder);
        mkdirSync(path.join(root, folder), { recursive: true });
        const files: string[] = [];
        for (let i = first; i < Math.min(first + PER_FOLDER, manifests); i++) {
            const name = `cm-${String(i).padStart(5, "0")}`;
            files.push(`${name}.yaml`);
            writeFileSync(path.join(root, folder, `${name}.yaml`), configMap(name, `value-${i}`));
        }
        writeFileSync(path.join(root, folder, "kustomization.yaml"), kustomization(files));
    }
    writeFileSync(path.join(root, "kustomization.yaml"), kustomization(folders));
    return {
        root,
        fileCount: manifests + folders.length + 1,
        manifestCount: manifests,
        changedFile: path.join(root, folders[0], "cm-00000.yaml"),
    };
}

/**
 * Changes one manifest (a comment line, so its size and MD5 change and every tool sees it whatever it compares),
 * runs `action`, and puts the original content back.
 */
export async function withOneFileChanged<T>(tree: ManifestTree, action: () => Promise<T>): Promise<T> {
    const original = readFileSync(tree.changedFile, "utf8");
    writeFileSync(tree.changedFile, `${original}# changed\n`);
    try {
        return await action();
    } finally {
        writeFileSync(tree.changedFile, original);
    }
}

/** A git repository holding `tree`, committed by Ada with `subject`, its origin a URL with a token in it. */
export function gitRepository(tree: Record<string, string>, subject: string): { dir: string; commit: string } {
    const dir = writeTree(tree);
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    git("config", "user.name", "Ada Lovelace");
    git("config", "user.email", "ada@example.org");
    git("remote", "add", "origin", "https://x-token:secret@git.example.org/acme/fleet.git");
    git("add", ".");
    git("commit", "-q", "-m", subject);
    return { dir, commit: git("rev-parse", "HEAD") };
}

/**
 * A CRD of a namespaced custom resource, Widget (example.com/v1), whose spec has an integer `size` and a string
 * `colour`, `required` ones among them: a CR checked against a CRD of the tree.
 */
export const widgetCrd = (required: string[]): string =>
    JSON.stringify({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "widgets.example.com" },
        spec: {
            group: "example.com",
            names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
            scope: "Namespaced",
            versions: [
                {
                    name: "v1",
                    served: true,
                    storage: true,
                    schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", required, properties: { size: { type: "integer" }, colour: { type: "string" } } } } } },
                },
            ],
        },
    });
