import net from "node:net";

/**
 * A TCP relay in front of moto that gives loopback a network's round trip: every chunk waits half of `rttMs` each way,
 * so each request costs one round trip more. What it shows is the cost of the requests a command sends one after the
 * other, which loopback hides (a moto answer takes a few milliseconds here). Connections cost nothing more: moto
 * answers each request on a connection of its own (`Connection: close`), where S3 keeps them open, so a handshake
 * round trip here would be paid per request; against S3 add TCP's and TLS's round trips once per connection a command
 * opens. The relay times nothing itself: commands are timed as everywhere else, and moto's log still counts requests.
 */
export class DelayRelay {
    private readonly server: net.Server;
    private readonly sockets: Set<net.Socket>;
    readonly endpoint: string;

    private constructor(server: net.Server, sockets: Set<net.Socket>, endpoint: string) {
        this.server = server;
        this.sockets = sockets;
        this.endpoint = endpoint;
    }

    /** Relays 127.0.0.1:<a free port> to `target` (an http://127.0.0.1:<port> endpoint) with `rttMs` round trips. */
    static async start(target: string, rttMs: number): Promise<DelayRelay> {
        const { hostname, port } = new URL(target);
        const sockets = new Set<net.Socket>();
        const server = net.createServer((client) => {
            const upstream = net.connect(Number(port), hostname);
            for (const socket of [client, upstream]) {
                sockets.add(socket);
                socket.setNoDelay(true);
                socket.on("close", () => sockets.delete(socket));
                socket.on("error", () => {
                    client.destroy();
                    upstream.destroy();
                });
            }
            relay(client, upstream, rttMs / 2);
            relay(upstream, client, rttMs / 2);
        });
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, "127.0.0.1", resolve);
        });
        return new DelayRelay(server, sockets, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    }

    async close(): Promise<void> {
        for (const socket of this.sockets) socket.destroy();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}

/** Copies `from` to `to`, each chunk `delayMs` after it arrived, in order: one queue and one timer per direction. The end follows the last chunk. */
function relay(from: net.Socket, to: net.Socket, delayMs: number): void {
    const queue: { at: number; chunk?: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
        timer = undefined;
        while (queue.length > 0 && queue[0].at <= performance.now()) {
            const { chunk } = queue.shift()!;
            if (!to.writable) return;
            if (chunk) to.write(chunk);
            else to.end();
        }
        if (queue.length > 0) timer = setTimeout(pump, Math.max(0, queue[0].at - performance.now()));
    };
    const enqueue = (chunk?: Buffer) => {
        queue.push({ at: performance.now() + delayMs, chunk });
        timer ??= setTimeout(pump, Math.max(0, queue[0].at - performance.now()));
    };
    from.on("data", (chunk: Buffer) => enqueue(chunk));
    from.on("end", () => enqueue());
}
