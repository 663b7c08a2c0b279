import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, it } from "node:test";
import { findSecrets } from "../../src/validate/secrets.ts";
import { writeTree } from "../support/trees.ts";
import { ageIdentity, configMapWith, plainSecret, privateKeyPem, sopsSecret } from "../support/secrets.ts";

/** What findSecrets says of a tree (relative path → content): "file: object: field" per problem. */
async function found(files: Record<string, string>): Promise<string[]> {
    const root = writeTree(files);
    const problems = await findSecrets(Object.keys(files).sort().map((relative) => ({ relative, absolute: path.join(root, relative) })));
    return problems.map((problem) => [problem.file, problem.object, problem.field].filter(Boolean).join(": "));
}

/** A dotenv file as `sops --encrypt` writes it (the shape of kustomize-controller v1.8.5 testdata/sops/envs/env.env). */
const sopsDotenv = () =>
    `key=ENC[AES256_GCM,data:${randomBytes(5).toString("base64")},iv:${randomBytes(32).toString("base64")},tag:${randomBytes(16).toString("base64")},type:str]\n` +
    `sops_lastmodified=2026-11-30T10:00:00Z\nsops_mac=ENC[AES256_GCM,data:${randomBytes(64).toString("base64")},iv:${randomBytes(32).toString("base64")},tag:${randomBytes(16).toString("base64")},type:str]\nsops_version=3.13.2\n`;

/**
 * The rules of kustomize-controller v1.8.5 (internal/decryptor/decryptor.go) for what Flux decrypts, on minimal
 * cases of the shapes its own testdata/sops holds, and the credential rules on values made when the test runs.
 */
describe("findSecrets", () => {
    it("accepts a SOPS-encrypted Secret, and names every plain key of one that is not, or only partly, encrypted", async () => {
        const encrypted = sopsSecret("db", { password: "hunter2" });
        assert.deepEqual(await found({ "db.yaml": encrypted }), []);
        // unencrypted_suffix or an encrypted_regex that misses a key leaves that value in the clear, with the sops metadata.
        const partly = encrypted.replace("stringData:\n", "stringData:\n  user_unencrypted: admin\n");
        assert.deepEqual(await found({ "db.yaml": partly }), ["db.yaml: Secret/db: stringData.user_unencrypted"]);
        // Values encrypted but no mac: not a SOPS file, Flux would apply the ENC[...] strings as they are; still nothing in the clear.
        assert.deepEqual(await found({ "db.yaml": plainSecret("db", { a: "x", b: "" }) + "data:\n  c: eA==\n" }), ["db.yaml: Secret/db: data.c, stringData.a"]);
        assert.deepEqual(await found({ "two.yaml": `${configMapWith("c", { a: "b" })}---\n${plainSecret("s", { k: "v" })}` }), ["two.yaml: Secret/s: stringData.k"]);
    });

    it("accepts a data entry that holds a whole SOPS-encrypted file, and values Flux substitutes after the build", async () => {
        const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: env\ndata:\n  app.env: ${Buffer.from(sopsDotenv()).toString("base64")}\n`;
        assert.deepEqual(await found({ "env.yaml": secret }), []);
        assert.deepEqual(await found({ "sub.yaml": plainSecret("sub", { user: "${MQTT_USER}", url: "https://${HOST:=example.org}/" }) }), []);
    });

    it("a secretGenerator: literals are plain, env files and files must be SOPS-encrypted", async () => {
        const kustomization = "secretGenerator:\n  - name: app\n    envs:\n      - app.env\n    files:\n      - key=files/key.txt\n  - name: lit\n    literals:\n      - password=hunter2\n";
        assert.deepEqual(await found({ "kustomization.yaml": kustomization, "app.env": sopsDotenv(), "files/key.txt": sopsDotenv() }), [
            "kustomization.yaml: secretGenerator/lit: secretGenerator[1].literals",
        ]);
        assert.deepEqual(await found({ "kustomization.yaml": kustomization, "app.env": "PASSWORD=hunter2\n", "files/key.txt": "k\n" }), [
            "kustomization.yaml: secretGenerator/app: secretGenerator[0].files[0]",
            "kustomization.yaml: secretGenerator/app: secretGenerator[0].envs[0]",
            "kustomization.yaml: secretGenerator/lit: secretGenerator[1].literals",
        ]);
    });

    it("finds credentials in any text file, never in SOPS metadata, SealedSecrets or binary files", async () => {
        assert.deepEqual(await found({ "key.yaml": configMapWith("tls", { "tls.key": privateKeyPem() }), "age.agekey": `# public key: age1…\n${ageIdentity()}\n` }), [
            "age.agekey: line 2",
            "key.yaml: line 7",
        ]);
        const sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n";
        assert.deepEqual(await found({ "db.yaml": sopsSecret("db", { password: "hunter2" }), "sealed.yaml": sealed, "blob.bin": `\0${ageIdentity()}` }), []);
    });

    it("a file a cache knows clean is not read again; only files with no finding and no secretGenerator are remembered", async () => {
        const files = {
            "clean.yaml": configMapWith("settings", { level: "info" }),
            "key.yaml": configMapWith("tls", { "tls.key": privateKeyPem() }),
            "secret.yaml": plainSecret("db", { password: "hunter2" }),
            "gen/kustomization.yaml": "secretGenerator:\n  - name: db\n    files: [db.env]\n",
            "gen/db.env": sopsDotenv(),
        };
        const root = writeTree(files);
        const shipped = Object.keys(files).sort().map((relative) => ({ relative, absolute: path.join(root, relative) }));
        const remembered: string[] = [];
        const first = await findSecrets(shipped, { known: () => false, remember: (file) => remembered.push(file.relative) });
        assert.deepEqual(first.map((problem) => problem.file).sort(), ["key.yaml", "secret.yaml"]);
        assert.deepEqual(remembered.sort(), ["clean.yaml", "gen/db.env"], "a kustomization with a secretGenerator depends on other files: never remembered");
        // Known clean: not read (here a file that would fail, to show it); the others are scanned as before.
        const again = await findSecrets(shipped, { known: (file) => file.relative === "key.yaml", remember: () => undefined });
        assert.deepEqual(again.map((problem) => `${problem.file}: ${problem.field}`), ["secret.yaml: stringData.password"]);
    });
});
