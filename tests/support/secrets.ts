import { createCipheriv, generateKeyPairSync, randomBytes } from "node:crypto";

/**
 * Secrets for the tests, made when they run (nothing credential-like is committed): Kubernetes Secrets in the clear
 * and encrypted as SOPS writes them, and values that credential scanners know.
 */

/** A plain Secret's YAML, its values under stringData. */
export function plainSecret(name: string, values: Record<string, string>): string {
    return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: default\ntype: Opaque\nstringData:\n${Object.entries(values)
        .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}\n`)
        .join("")}`;
}

/** One value as SOPS encrypts it (getsops/sops v3.13.2 aes/cipher.go:197): AES-256-GCM with a 32-byte IV, type str. */
function encrypted(value: string, key: Buffer): string {
    const iv = randomBytes(32);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const data = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
    return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${iv.toString("base64")},tag:${cipher.getAuthTag().toString("base64")},type:str]`;
}

/**
 * The same Secret as `sops --encrypt --encrypted-regex '^(data|stringData)$'` leaves it: every stringData value
 * encrypted, and the `sops` metadata with its `mac` (the shape of kustomize-controller v1.8.5's testdata/sops files;
 * the age stanza is a stand-in, nothing here is meant to be decrypted).
 */
export function sopsSecret(name: string, values: Record<string, string>): string {
    const key = randomBytes(32);
    return [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        `  name: ${name}`,
        "  namespace: default",
        "type: Opaque",
        "stringData:",
        ...Object.entries(values).map(([k, v]) => `  ${k}: ${encrypted(v, key)}`),
        "sops:",
        "  age:",
        "    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        "      enc: |",
        "        -----BEGIN AGE ENCRYPTED FILE-----",
        `        ${randomBytes(48).toString("base64")}`,
        "        -----END AGE ENCRYPTED FILE-----",
        '  lastmodified: "2026-11-30T10:00:00Z"',
        `  mac: ${encrypted(randomBytes(32).toString("hex"), key)}`,
        "  encrypted_regex: ^(data|stringData)$",
        "  version: 3.13.2",
        "",
    ].join("\n");
}

/** An RSA private key in PEM (PKCS#8), new each time. */
export function privateKeyPem(): string {
    return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** What an AWS secret access key looks like: 40 characters of base64, new each time. */
export function awsSecretAccessKey(): string {
    return randomBytes(30).toString("base64").replace(/[+/]/g, "A");
}

/** An age identity as age-keygen prints it: AGE-SECRET-KEY-1 and 58 characters of bech32, new each time. */
export function ageIdentity(): string {
    const bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    return `AGE-SECRET-KEY-1${Array.from(randomBytes(58), (byte) => bech32[byte % 32]).join("").toUpperCase()}`;
}

/** A ConfigMap carrying a value (e.g. a leaked credential) under `key`. */
export function configMapWith(name: string, entries: Record<string, string>): string {
    return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n${Object.entries(entries)
        .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}\n`)
        .join("")}`;
}
