import path from "node:path";
import { RELEASE_NAME } from "../../../src/bucket/keys.ts";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CRC32C } from "@google-cloud/storage";

interface StoredObject {
    name: string;
    generation: string;
    body: Buffer;
    contentType: string;
    timeCreated: string;
    timeDeleted?: string;
}

/**
 * A small stand-in for the GCS JSON API, enough for @google-cloud/storage's calls in bucketops
 * (no real GCS server can run here): bucket metadata, object listing with versions (pages, start and end offsets), media download,
 * multipart upload with ifGenerationMatch, delete, rewrite (copy). Versioned buckets keep noncurrent
 * generations with `timeDeleted`, like GCS. Etags are opaque per generation, as on GCS.
 */
export class FakeGcs {
    readonly buckets = new Map<string, { versioning: boolean; objects: StoredObject[] }>();
    private readonly server: Server;
    private clock = 0;
    private offset = 0;
    /** objects.list requests answered (each page is one). */
    lists = 0;

    private constructor() {
        this.server = createServer((req, res) => {
            this.handle(req, res).catch((error) => this.send(res, 500, { error: { code: 500, message: String(error) } }));
        });
    }

    static async start(): Promise<FakeGcs> {
        const fake = new FakeGcs();
        await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
        return fake;
    }

    get endpoint(): string {
        return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    }

    close(): void {
        this.server.close();
        this.server.closeAllConnections();
    }

    createBucket(name: string, versioning = true): void {
        this.buckets.set(name, { versioning, objects: [] });
    }

    /** Writes an object as another client would (a new generation). */
    put(bucket: string, name: string, body: string): void {
        this.write(bucket, name, Buffer.from(body), "application/json");
    }

    /** Live objects: name → body. */
    /** The live objects, but the release records bucketops keeps beside a tree unless `releases` (see Moto.contents). */
    contents(bucket: string, releases = false): Record<string, string> {
        const live = this.buckets.get(bucket)!.objects.filter((o) => !o.timeDeleted && (releases || path.posix.basename(o.name) !== RELEASE_NAME));
        return Object.fromEntries(live.map((o) => [o.name, o.body.toString()]));
    }

    /** Every generation of the objects whose names start with `prefix`, live or not, as "name generation" lines. */
    generations(bucket: string, prefix = ""): string[] {
        return this.buckets.get(bucket)!.objects.filter((o) => o.name.startsWith(prefix)).map((o) => `${o.name} ${o.generation}`).sort();
    }

    /** Etag of the live object, as GCS reports it (opaque, per generation). */
    etag(bucket: string, name: string): string {
        return etagOf(this.buckets.get(bucket)!.objects.find((o) => o.name === name && !o.timeDeleted)!);
    }

    /** Lets the server's clock run ahead, as if the test had waited. */
    passTime(ms: number): void {
        this.offset += ms;
    }

    /** Millisecond timestamps that never repeat, so each write is its own instant. */
    private now(): { time: string; generation: string } {
        this.clock = Math.max(Date.now() + this.offset, this.clock + 1);
        return { time: new Date(this.clock).toISOString(), generation: String(this.clock * 1000) };
    }

    private write(bucket: string, name: string, body: Buffer, contentType: string): StoredObject {
        const state = this.buckets.get(bucket)!;
        const { time, generation } = this.now();
        this.retire(bucket, name, time);
        const object = { name, generation, body, contentType, timeCreated: time };
        state.objects.push(object);
        return object;
    }

    private retire(bucket: string, name: string, time: string): void {
        const state = this.buckets.get(bucket)!;
        const live = state.objects.find((o) => o.name === name && !o.timeDeleted);
        if (!live) return;
        if (state.versioning) live.timeDeleted = time;
        else state.objects.splice(state.objects.indexOf(live), 1);
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const url = new URL(req.url!, "http://localhost");
        const q = url.searchParams;
        let m: RegExpExecArray | null;
        const notFound = () => this.send(res, 404, { error: { code: 404, message: "Not Found" } });

        if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname)) && req.method === "POST") {
            if (!this.buckets.has(m[1])) return notFound();
            const { metadata, media } = parseMultipart(await readBody(req), req.headers["content-type"]!);
            const name = (q.get("name") ?? metadata.name) as string;
            if (!this.preconditionHolds(m[1], name, q)) return this.send(res, 412, { error: { code: 412, message: "Precondition Failed" } });
            return this.send(res, 200, this.resource(m[1], this.write(m[1], name, media, String(metadata.contentType ?? ""))));
        }
        if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)\/rewriteTo\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname)) && req.method === "POST") {
            const source = this.find(m[1], decodeURIComponent(m[2]), q.get("sourceGeneration"));
            if (!source) return notFound();
            if (!this.preconditionHolds(m[3], decodeURIComponent(m[4]), q)) return this.send(res, 412, { error: { code: 412, message: "Precondition Failed" } });
            const copy = this.write(m[3], decodeURIComponent(m[4]), source.body, source.contentType);
            const resource = this.resource(m[3], copy);
            return this.send(res, 200, { kind: "storage#rewriteResponse", done: true, objectSize: resource.size, totalBytesRewritten: resource.size, resource });
        }
        if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname))) {
            const name = decodeURIComponent(m[2]);
            const object = this.find(m[1], name, q.get("generation"));
            if (!object) return notFound();
            if (req.method === "DELETE") {
                // JSON API objects.delete: with `generation`, that generation (live or noncurrent) is deleted for good.
                if (q.get("generation")) {
                    const objects = this.buckets.get(m[1])!.objects;
                    objects.splice(objects.indexOf(object), 1);
                } else {
                    this.retire(m[1], name, this.now().time);
                }
                res.writeHead(204).end();
                return;
            }
            if (q.get("alt") === "media") {
                const md5 = createHash("md5").update(object.body).digest("base64");
                res.writeHead(200, {
                    "content-type": object.contentType || "application/octet-stream",
                    "x-goog-hash": `crc32c=${crc32c(object.body)},md5=${md5}`,
                    "x-goog-generation": object.generation,
                });
                res.end(object.body);
                return;
            }
            return this.send(res, 200, this.resource(m[1], object));
        }
        if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname)) && req.method === "GET") {
            const state = this.buckets.get(m[1]);
            if (!state) return notFound();
            // objects.list (https://cloud.google.com/storage/docs/json_api/v1/objects/list): names by their bytes
            // (lexicographically), startOffset included and endOffset excluded, at most maxResults or 1,000 items a
            // page, and a nextPageToken that marks the last one returned (here: its name and generation, base64).
            this.lists++;
            const prefix = q.get("prefix") ?? "";
            const start = q.get("startOffset");
            const end = q.get("endOffset");
            const bytes = (name: string) => Buffer.from(name, "utf8");
            const after = q.get("pageToken") ? (JSON.parse(Buffer.from(q.get("pageToken")!, "base64").toString("utf8")) as [string, string]) : undefined;
            const order = (a: StoredObject, b: StoredObject) => Buffer.compare(bytes(a.name), bytes(b.name)) || Number(a.generation) - Number(b.generation);
            const all = state.objects
                .filter((o) => o.name.startsWith(prefix) && (q.get("versions") === "true" || !o.timeDeleted))
                .filter((o) => (start === null || Buffer.compare(bytes(o.name), bytes(start)) >= 0) && (end === null || Buffer.compare(bytes(o.name), bytes(end)) < 0))
                .sort(order)
                .filter((o) => !after || order(o, { ...o, name: after[0], generation: after[1] }) > 0);
            const page = all.slice(0, Math.min(Number(q.get("maxResults") ?? 1000), 1000));
            const last = page.at(-1);
            const nextPageToken = all.length > page.length && last ? Buffer.from(JSON.stringify([last.name, last.generation])).toString("base64") : undefined;
            return this.send(res, 200, { kind: "storage#objects", items: page.map((o) => this.resource(m![1], o)), ...(nextPageToken ? { nextPageToken } : {}) });
        }
        if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(url.pathname)) && req.method === "GET") {
            const state = this.buckets.get(m[1]);
            if (!state) return notFound();
            return this.send(res, 200, { kind: "storage#bucket", name: m[1], versioning: { enabled: state.versioning } });
        }
        notFound();
    }

    private preconditionHolds(bucket: string, name: string, q: URLSearchParams): boolean {
        const wanted = q.get("ifGenerationMatch");
        if (wanted === null) return true;
        const live = this.find(bucket, name, null);
        return wanted === "0" ? !live : live?.generation === wanted;
    }

    private find(bucket: string, name: string, generation: string | null): StoredObject | undefined {
        return this.buckets
            .get(bucket)
            ?.objects.find((o) => o.name === name && (generation ? o.generation === generation : !o.timeDeleted));
    }

    private resource(bucket: string, o: StoredObject) {
        return {
            kind: "storage#object",
            bucket,
            name: o.name,
            generation: o.generation,
            metageneration: "1",
            size: String(o.body.length),
            md5Hash: createHash("md5").update(o.body).digest("base64"),
            crc32c: crc32c(o.body),
            etag: etagOf(o),
            contentType: o.contentType,
            timeCreated: o.timeCreated,
            updated: o.timeCreated,
            ...(o.timeDeleted ? { timeDeleted: o.timeDeleted } : {}),
        };
    }

    private send(res: ServerResponse, status: number, body: unknown): void {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
    }
}

function crc32c(body: Buffer): string {
    const checksum = new CRC32C();
    checksum.update(body);
    return checksum.toString();
}

function etagOf(o: StoredObject): string {
    return Buffer.from(`gen:${o.generation}/1`).toString("base64");
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
}

/** The two parts of an uploadType=multipart body: JSON metadata, then the media. */
function parseMultipart(body: Buffer, contentType: string): { metadata: Record<string, unknown>; media: Buffer } {
    const boundary = /boundary="?([^";]+)"?/.exec(contentType)![1];
    const parts: Buffer[] = [];
    const delimiter = Buffer.from(`--${boundary}`);
    let start = body.indexOf(delimiter);
    while (start !== -1) {
        const next = body.indexOf(delimiter, start + delimiter.length);
        if (next === -1) break;
        const part = body.subarray(start + delimiter.length, next);
        const headerEnd = part.indexOf("\r\n\r\n");
        parts.push(part.subarray(headerEnd + 4, part.length - 2));
        start = next;
    }
    return { metadata: JSON.parse(parts[0].toString()), media: parts[1] };
}
