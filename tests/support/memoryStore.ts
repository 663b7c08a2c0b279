import { createHash } from "node:crypto";
import { ConcurrentChangeError } from "../../src/cli/errors.ts";
import type { ObjectEntry, ObjectStore, ObjectVersion, PutOptions } from "../../src/cli/store/types.ts";
import { parseBucketUrl } from "../../src/cli/url.ts";

/**
 * An ObjectStore in memory, for unit tests of plans and of the guarded write's order (the S3 and GCS code paths are
 * tested against moto_server and the GCS stand-in). Versioned: every put and delete adds a version; preconditions
 * (`expected`) behave as S3's If-Match / If-None-Match: a mismatch is a ConcurrentChangeError. `calls` records each
 * write and delete in order.
 */
export class MemoryStore implements ObjectStore {
    readonly url;
    readonly description: string;
    readonly copiesKeepEtag = true;
    readonly calls: string[] = [];
    private readonly versions: (ObjectVersion & { body?: Buffer })[] = [];
    private clock = Date.parse("2026-12-01T00:00:00Z");
    private nextId = 1;

    constructor(url = "s3://memory/app") {
        this.url = parseBucketUrl(url);
        this.description = `${url} (in memory)`;
    }

    /** Puts objects as another writer would (not recorded in `calls`). */
    seed(objects: Record<string, string>): void {
        for (const [key, body] of Object.entries(objects)) this.add(key, Buffer.from(body));
    }

    async list(prefix: string): Promise<ObjectEntry[]> {
        return this.current().filter((v) => v.key.startsWith(prefix)).map(entry);
    }

    async get(key: string, versionId?: string): Promise<Buffer | undefined> {
        const version = versionId ? this.versions.find((v) => v.versionId === versionId) : this.current().find((v) => v.key === key);
        return version?.body;
    }

    async put(key: string, body: Buffer, options: PutOptions): Promise<ObjectEntry> {
        this.check(key, options.expected);
        this.calls.push(`put ${key}`);
        return written(this.add(key, body));
    }

    async delete(keys: string[]): Promise<void> {
        this.calls.push(`delete ${keys.join(",")}`);
        for (const key of keys) {
            if (!this.current().some((v) => v.key === key)) continue;
            this.push({ key, versionId: String(this.nextId++), etag: "", size: 0, lastModified: this.tick(), deleteMarker: true, latest: true });
        }
    }

    async versioningEnabled(): Promise<boolean> {
        return true;
    }

    async listVersions(prefix: string): Promise<ObjectVersion[]> {
        return this.versions.filter((v) => v.key.startsWith(prefix)).reverse().map(({ body: _, ...v }) => v);
    }

    async restore(version: ObjectVersion, expected?: ObjectEntry | null, to = version.key): Promise<ObjectEntry> {
        this.check(to, expected);
        this.calls.push(to === version.key ? `restore ${version.key}` : `restore ${version.key} to ${to}`);
        return written(this.add(to, this.versions.find((v) => v.versionId === version.versionId)!.body!));
    }

    async deleteVersion(version: ObjectVersion): Promise<void> {
        this.calls.push(`deleteVersion ${version.key} ${version.versionId}`);
        const at = this.versions.findIndex((v) => v.versionId === version.versionId);
        if (at >= 0) this.versions.splice(at, 1);
    }

    async identity(): Promise<string> {
        return "memory-user";
    }

    close(): void {}

    private check(key: string, expected: ObjectEntry | null | undefined): void {
        if (expected === undefined) return;
        const now = this.current().find((v) => v.key === key);
        if ((expected === null) !== (now === undefined) || (expected && now && expected.etag !== now.etag)) {
            throw new ConcurrentChangeError(`${key} changed (precondition failed)`);
        }
    }

    private add(key: string, body: Buffer): ObjectVersion & { body: Buffer } {
        const md5 = createHash("md5").update(body).digest("hex");
        const version = { key, versionId: String(this.nextId++), etag: md5, md5, size: body.length, lastModified: this.tick(), deleteMarker: false, latest: true, body };
        this.push(version);
        return version;
    }

    private push(version: ObjectVersion & { body?: Buffer }): void {
        for (const v of this.versions) if (v.key === version.key) v.latest = false;
        this.versions.push(version);
    }

    private tick(): Date {
        this.clock += 1000;
        return new Date(this.clock);
    }

    private current(): (ObjectVersion & { body?: Buffer })[] {
        return this.versions.filter((v) => v.latest && !v.deleteMarker);
    }
}

const entry = (v: ObjectVersion): ObjectEntry => ({ key: v.key, etag: v.etag, size: v.size, md5: v.md5 });
/** As S3 answers a put or a copy: with the new version's id (its listings do not tell it). */
const written = (v: ObjectVersion): ObjectEntry => ({ ...entry(v), versionId: v.versionId });
