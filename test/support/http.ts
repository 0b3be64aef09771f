import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';

/** A whole HTTP answer. */
export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: Record<string, unknown> | undefined;
}

export interface SendOptions {
  readonly method?: string;
  /** A record, or a flat [name, value, …] list to send repeated or oddly-cased names as they are. */
  readonly headers?: OutgoingHttpHeaders | readonly string[];
  /** A buffer (sent with Content-Length) or a stream (sent chunked). */
  readonly body?: Buffer | string | Readable;
  readonly timeoutMs?: number;
}

/**
 * One request with node:http and no connection reuse. Unlike fetch it sends any header a client
 * could (Connection tokens, Proxy-*, Forwarded, TE…) and the path unnormalised (`/a/../b`,
 * `%2e%2e`), which is what header hygiene and path tests need.
 */
export async function send(url: string, options: SendOptions = {}): Promise<HttpReply> {
  // The path goes out exactly as written: no WHATWG URL normalisation of "..", "%2e" or "\\".
  const origin = new URL(url);
  const pathStart = url.indexOf('/', origin.protocol.length + 2);
  const req = httpRequest({
    host: origin.hostname,
    port: origin.port,
    path: pathStart === -1 ? '/' : url.slice(pathStart),
    method: options.method ?? 'GET',
    headers: options.headers,
    agent: false,
    timeout: options.timeoutMs ?? 15_000,
  });
  req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 15_000} ms`)));
  const body = options.body;
  if (body === undefined) req.end();
  else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
  else body.pipe(req);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  // The server may answer before it read the whole body (413) and close: the rest of the upload
  // then fails with EPIPE/ECONNRESET, which is not this request's outcome.
  req.on('error', () => undefined);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const buffer = Buffer.concat(chunks);
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(buffer.toString('utf8')) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, headers: res.headers, body: buffer, json };
}

/**
 * Writes raw bytes on a fresh TCP connection and returns everything the server sent until it
 * closed the connection (or `timeoutMs` passed). For requests no HTTP client will produce.
 */
export async function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await Promise.race([
    once(socket, 'close'),
    new Promise((resolve) => setTimeout(resolve, timeoutMs)),
  ]);
  socket.destroy();
  return Buffer.concat(chunks).toString('latin1');
}

/** The status and JSON body of a raw HTTP/1.1 response text. */
export function parseRawResponse(text: string): { status: number; headers: string; json: Record<string, unknown> | undefined } {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(end === -1 ? '' : text.slice(end + 4)) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status, headers: head, json };
}
