import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { S3Request } from "../../support/s3Authorization.ts";

/**
 * An HTTP pass-through to a server that records every request it forwards and can "crash": after
 * `crashAfterPuts` PUT requests it drops every connection and stops listening, as a killed server would,
 * until `revive()`.
 */
export class CrashingProxy {
    private crashAfterPuts = Infinity;
    private puts = 0;
    private readonly sockets = new Set<Socket>();
    private readonly server: Server;
    /** Every request forwarded, with its body (DeleteObjects names its keys there). */
    readonly requests: S3Request[] = [];
    /** Called with each request before it is forwarded. */
    onForward: (request: S3Request) => void = () => undefined;
    /** Called once the server's whole answer to a request has come back (what it answered is fixed by then). */
    onAnswered: (request: S3Request) => void = () => undefined;
    /** Awaited before a request is forwarded (its body waits in the socket): a slow or held write. */
    hold: (request: S3Request) => Promise<void> | undefined = () => undefined;

    private readonly target: URL;
    readonly port: number;

    private constructor(target: URL, port: number) {
        this.target = target;
        this.port = port;
        this.server = createServer((req, res) => {
            if (req.method === "PUT" && ++this.puts > this.crashAfterPuts) {
                this.crash();
                return;
            }
            const recorded: S3Request = { method: req.method!, url: req.url!, headers: req.headers };
            this.requests.push(recorded);
            this.onForward(recorded);
            req.pause();
            void Promise.resolve(this.hold(recorded)).then(() => this.forward(req, res, recorded));
        });
        this.server.on("connection", (socket) => {
            this.sockets.add(socket);
            socket.on("close", () => this.sockets.delete(socket));
        });
    }

    private forward(req: IncomingMessage, res: ServerResponse, recorded: S3Request): void {
        {
            const body: Buffer[] = [];
            req.on("data", (chunk: Buffer) => body.push(chunk));
            req.on("end", () => (recorded.body = Buffer.concat(body).toString("utf8")));
            const upstream = request(
                { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
                (answer) => {
                    res.writeHead(answer.statusCode!, answer.headers);
                    answer.on("end", () => this.onAnswered(recorded));
                    answer.pipe(res);
                },
            );
            upstream.on("error", () => res.destroy());
            req.pipe(upstream);
            req.resume();
        }
    }

    static async start(target: string, port: number): Promise<CrashingProxy> {
        const proxy = new CrashingProxy(new URL(target), port);
        await proxy.listen();
        return proxy;
    }

    get endpoint(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    private listen(): Promise<void> {
        return new Promise((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    }

    private crash(): void {
        this.server.close();
        for (const socket of this.sockets) socket.destroy();
    }

    /** Crash on the PUT after the next `puts` ones. */
    crashAfter(puts: number): void {
        this.crashAfterPuts = puts;
        this.puts = 0;
    }

    async revive(): Promise<void> {
        this.crashAfterPuts = Infinity;
        this.puts = 0;
        await this.listen();
    }

    close(): void {
        this.crash();
    }
}
