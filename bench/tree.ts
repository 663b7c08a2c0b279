import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface ManifestTree {
    root: string;
    /** Every file of the tree, kustomization.yaml files included. */
    fileCount: number;
    manifestCount: number;
    /** The ConfigMap the one-change case edits. */
    changedFile: string;
}

const PER_FOLDER = 100;

function configMap(name: string, value: string): string {
    return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: apps\ndata:\n  value: "${value}"\n`;
}

function kustomization(resources: string[]): string {
    return `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}\n`).join("")}`;
}

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
 * Changes one manifest (its size too, so every tool sees it whatever it compares), runs `action`,
 * and puts the original content back.
 */
export async function withOneFileChanged<T>(tree: ManifestTree, action: () => Promise<T>): Promise<T> {
    const original = readFileSync(tree.changedFile, "utf8");
    writeFileSync(tree.changedFile, original.replace(/value: "(.*)"/, 'value: "$1-changed"'));
    try {
        return await action();
    } finally {
        writeFileSync(tree.changedFile, original);
    }
}
