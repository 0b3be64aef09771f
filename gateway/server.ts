import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AuditEventInput } from '../core/audit/event.js';
import { newId } from '../core/domain/ids.js';
import type { PipelineDeps } from './pipeline.js';
import { createPipeline } from './pipeline.js';
import { refusals } from './refusals.js';

/** The reserved prefix for the Gateway's own endpoints; never proxied (DESIGN.md §2). */
export const RESERVED_PREFIX = '/_caracal/';

export interface GatewayServerOptions extends PipelineDeps {
  /** `/_caracal/metrics`: the Prometheus text (every worker's, summed, under --workers). */
  readonly metrics: { readonly contentType: string; text(): Promise<string> };
  /** The detail when ready but degraded (e.g. a failing audit sink): shown, never a 503. */
  readonly degraded?: () => string | null;
}

/**
 * The Gateway's HTTP server: `/_caracal/healthz|readyz|metrics`, and everything else through the
 * pipeline. Header-block overflows and malformed requests are answered by Node's parser before a
 * request exists; they still get the JSON refusal and an audit event here.
 */
export function createGatewayServer(options: GatewayServerOptions): { server: Server; unrecorded: () => number } {
  const { handle, unrecorded } = createPipeline(options);
  const server = createServer(
    // requireHostHeader off: Node would answer a Host-less HTTP/1.1 request with a bare 400 and no
    // audit event; the pipeline refuses it itself (JSON body, request ID, event).
    { maxHeaderSize: options.limits.maxHeaderBytes, requestTimeout: 0, headersTimeout: 10_000, keepAliveTimeout: 65_000, requireHostHeader: false },
    (req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      if (url.startsWith(RESERVED_PREFIX)) return serveOwn(url, res, options);
      handle(req, res);
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const overflow = error.code === 'HPE_HEADER_OVERFLOW';
    const requestId = newId('request');
    const reason = overflow ? 'headers_too_large' : 'request_malformed';
    const refusal = refusals[reason];
    const body = JSON.stringify({ error: refusal.error, reason, message: refusal.message, request_id: requestId, category: refusal.category, hint: refusal.hint });
    socket.end(
      `HTTP/1.1 ${refusal.status} ${overflow ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
    const event: AuditEventInput = {
      type: 'gateway.request',
      zone: null,
      request_id: requestId,
      decision: 'deny',
      reason,
      category: refusal.category,
      http: { method: '', path: '', status: refusal.status, upstream_status: null, latency_ms: null },
    };
    options.record(event);
    options.observe({ decision: 'deny', status: refusal.status, latencyMs: 0 });
  });
  return { server, unrecorded };
}

function serveOwn(url: string, res: ServerResponse, options: GatewayServerOptions): void {
  const path = url.split('?')[0];
  const degraded = options.degraded?.() ?? null;
  if (path === '/_caracal/healthz') return json(res, 200, degraded === null ? { ok: true } : { ok: true, detail: `healthy; ${degraded}` });
  if (path === '/_caracal/readyz') {
    // 503 only when requests cannot be decided (store never loaded, no issuer): a failing reload
    // while an older snapshot serves, or a failing sink (an observer), shows in the checks.
    const state = options.state();
    const detail = state.ready && degraded !== null ? `${state.detail}; ${degraded}` : state.detail;
    const sinks = degraded === null ? { ok: true, detail: 'no audit sink failing' } : { ok: false, detail: degraded };
    return json(res, state.ready ? 200 : 503, { ok: state.ready, detail, checks: { ...state.checks(), sinks } });
  }
  if (path === '/_caracal/metrics') {
    options.metrics.text().then(
      (text) => {
        res.writeHead(200, { 'content-type': options.metrics.contentType });
        res.end(text);
      },
      (error: Error) => json(res, 503, { error: 'metrics_unavailable', message: error.message }),
    );
    return;
  }
  json(res, 404, { error: 'not_found', message: `no Gateway endpoint ${path ?? ''}` });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
