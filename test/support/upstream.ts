import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the upstream saw of one request. */
export interface RecordedRequest {
  readonly method: string;
  /** The request target as received (path and query). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Names and values exactly as sent, in order. */
  readonly rawHeaders: readonly string[];
  /** The whole body (empty when `readBody` is off). */
  readonly body: Buffer;
}

/** Answers a request; called after the body was read (or at once when `readBody` is off). */
export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void;

export interface UpstreamOptions {
  /** Default: 200 with a small JSON body naming the method and URL. */
  readonly handle?: UpstreamHandler;
  /** Read the body before calling `handle` (default true). */
  readonly readBody?: boolean;
}

/** A real node:http upstream on 127.0.0.1:0 that records every request and socket. */
export interface Upstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  /** How many requests arrived (including ones whose body never finished). */
  hits(): number;
  /** How many TCP connections were accepted in all. */
  connections(): number;
  /** How many TCP connections are open now. */
  openSockets(): number;
  /** Replaces the handler (e.g. between test cases). */
  setHandler(handle: UpstreamHandler): void;
  /** Forgets what was recorded (counters included, not open sockets). */
  reset(): void;
  /** Closes every connection and the server. */
  close(): Promise<void>;
}

const defaultHandler: UpstreamHandler = (_req, res, recorded) => {
  const body = JSON.stringify({ ok: true, method: recorded.method, url: recorded.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/** Starts a recording upstream on a free loopback port. */
export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  let handle = options.handle ?? defaultHandler;
  const readBody = options.readBody ?? true;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let hits = 0;
  let connections = 0;

  const server = createServer((req, res) => {
    hits++;
    const base = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders };
    if (!readBody) {
      const recorded = { ...base, body: Buffer.alloc(0) };
      requests.push(recorded);
      handle(req, res, recorded);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      const recorded = { ...base, body: Buffer.concat(chunks) };
      requests.push(recorded);
      handle(req, res, recorded);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    requests,
    hits: () => hits,
    connections: () => connections,
    openSockets: () => sockets.size,
    setHandler(next) {
      handle = next;
    },
    reset() {
      requests.length = 0;
      hits = 0;
      connections = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      if (server.listening) await once(server, 'close');
    },
  };
}
