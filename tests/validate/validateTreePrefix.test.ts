import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { validateTree } from "../../src/validate/index.ts";
import { copyOfDeploy, edit, expectProblems } from "./expectProblems.ts";

const APPS = "clusters/dev/apps.yaml";
const INFRASTRUCTURE = "clusters/dev/infrastructure.yaml";

/** A copy of deploy/ whose Flux Kustomizations read from under `bucketPrefix` (written as given). */
function copyUnder(t: { after(fn: () => void): void }, bucketPrefix: string): string {
    const dir = copyOfDeploy(t);
    edit(dir, APPS, "path: ./apps/dev", `path: ./${bucketPrefix}apps/dev`);
    edit(dir, INFRASTRUCTURE, "path: ./infrastructure/controllers", `path: ./${bucketPrefix}infrastructure/controllers`);
    return dir;
}

const appsPathProblem = (dir: string, message: string) => ({ file: path.join(dir, APPS), object: "Kustomization/apps", field: "spec.path", message });

describe("validateTree with a prefix", { concurrency: true }, () => {
    it("normalizes the prefix: prod, /prod, prod/ and prod// all mean the folder prod/", async (t) => {
        const dir = copyUnder(t, "prod/");
        for (const prefix of ["prod", "/prod", "prod/", "prod//"]) await validateTree(dir, { prefix });
        edit(dir, APPS, "path: ./prod/apps/dev", "path: ./apps/dev");
        for (const prefix of ["prod", "/prod//"]) {
            await expectProblems(() => validateTree(dir, { prefix }), [
                appsPathProblem(
                    dir,
                    '"./apps/dev" is outside the prefix prod/ this tree is pushed under; Flux keeps the prefix in artifact paths, so write ./prod/apps/dev',
                ),
            ]);
        }
    });

    it("treats an empty prefix, or /, as the bucket root", async (t) => {
        const dir = copyOfDeploy(t);
        await validateTree(dir, { prefix: "" });
        await validateTree(dir, { prefix: "/" });
        await validateTree(dir, {});
    });

    it("resolves spec.path as Flux does: a leading slash, a trailing slash and the prefix folder itself are inside", async (t) => {
        const dir = copyUnder(t, "prod/");
        edit(dir, APPS, "path: ./prod/apps/dev", "path: /prod/apps/dev/");
        edit(dir, INFRASTRUCTURE, "path: ./prod/infrastructure/controllers", "path: ./prod");
        // Paths only: built, ./prod is the whole tree, which Flux's generated kustomization refuses (each folder's
        // Namespace twice), as the next test shows.
        await validateTree(dir, { prefix: "prod/", build: false });
    });

    it("builds the prefix folder itself as Flux does: a generated kustomization of every folder, which collides here", async (t) => {
        const dir = copyUnder(t, "prod/");
        edit(dir, INFRASTRUCTURE, "path: ./prod/infrastructure/controllers", "path: ./prod");
        await assert.rejects(validateTree(dir, { prefix: "prod/" }), /clusters\/dev\/infrastructure.yaml: Kustomization\/infrastructure-controllers: kustomize build failed: .*may not add resource with an already registered id: Namespace.v1.\[noGrp\]\/podinfo/);
    });

    it("accepts a tree under a nested prefix and rejects a sibling whose name only starts like it", async (t) => {
        const dir = copyUnder(t, "teams/a/");
        await validateTree(dir, { prefix: "teams/a/" });
        await validateTree(dir, { prefix: "teams/a" });
        edit(dir, APPS, "path: ./teams/a/apps/dev", "path: ./teams/ab/apps/dev");
        await expectProblems(() => validateTree(dir, { prefix: "teams/a/" }), [
            appsPathProblem(
                dir,
                '"./teams/ab/apps/dev" is outside the prefix teams/a/ this tree is pushed under; Flux keeps the prefix in artifact paths, ' +
                    "so write ./teams/a/apps/dev, or ./${BUCKETOPS_PREFIX}apps/dev to use the same tree under every prefix (the flux stack's substitutePrefix)",
            ),
        ]);
    });

    it("${BUCKETOPS_PREFIX}: the same tree under every prefix where the root Kustomization substitutes it, refused where nothing does", async (t) => {
        const dir = copyUnder(t, "${BUCKETOPS_PREFIX}");
        for (const prefix of ["teams/a/", "prod/", ""]) {
            await validateTree(dir, { prefix, substitutePrefix: true });
            await validateTree(dir, { prefix, substitutePrefix: true, build: false });
        }
        // Without substitutePrefix Flux would read the path as written: no such folder.
        const unset =
            '"./${BUCKETOPS_PREFIX}apps/dev" needs ${BUCKETOPS_PREFIX} substituted, which the root Kustomization does only with the ' +
            "flux stack's substitutePrefix (push and promote: --substitute-prefix, or the flux stack's outputs)";
        const infrastructure = {
            file: path.join(dir, INFRASTRUCTURE),
            object: "Kustomization/infrastructure-controllers",
            field: "spec.path",
            message: unset.replace("apps/dev", "infrastructure/controllers"),
        };
        await expectProblems(() => validateTree(dir, { prefix: "prod/" }), [appsPathProblem(dir, unset), infrastructure]);
        await expectProblems(() => validateTree(dir, { prefix: "prod/", build: false }), [appsPathProblem(dir, unset), infrastructure]);
    });

    it("says which folder of the tree it looked for when a path inside the prefix is not one", async (t) => {
        const dir = copyUnder(t, "teams/a/");
        edit(dir, APPS, "path: ./teams/a/apps/dev", "path: ./teams/a/apps/staging");
        await expectProblems(() => validateTree(dir, { prefix: "teams/a/" }), [
            appsPathProblem(dir, '"./teams/a/apps/staging" is not a directory of the tree (apps/staging once the prefix teams/a/ is stripped)'),
        ]);
    });

    it("rejects a path that climbs above the bucket root, as without a prefix", async (t) => {
        const dir = copyUnder(t, "prod/");
        edit(dir, APPS, "path: ./prod/apps/dev", "path: ../apps/dev");
        await expectProblems(() => validateTree(dir, { prefix: "prod/" }), [appsPathProblem(dir, '"../apps/dev" is not a directory of the tree')]);
    });
});
