import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders } from './headers.js';
import type { RefusalReason } from './refusals.js';

/** Upstream connection limits (DESIGN.md §5), all configurable. */
export interface UpstreamLimits {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly connectionsPerOrigin: number;
}

export const defaultUpstreamLimits: UpstreamLimits = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  connectionsPerOrigin: 256,
};

export interface ForwardTarget {
  readonly origin: string;
  /** Path and query for the upstream request line. */
  readonly path: string;
  readonly method: string;
  readonly headers: string[];
  /** The request body stream, or null when there is none. */
  readonly body: Readable | null;
}

/** How a forwarded request ended. */
export interface ForwardOutcome {
  /** The upstream's status, or null when it never answered. */
  readonly upstreamStatus: number | null;
  /** Set when the exchange failed; the caller answers the client if nothing was sent yet. */
  readonly failure: RefusalReason | null;
  /** Whether the response to the client was started (headers sent). */
  readonly responded: boolean;
  /** Whether the client went away before the end. */
  readonly clientAborted: boolean;
  /** The failure in words, when it says more than the refusal table (a refused address). */
  readonly message: string | undefined;
}

/**
 * Forwards one request with undici's `dispatch` (the fastest mode measured) and streams the
 * response back with backpressure in both directions. If the client disconnects mid-response the
 * upstream request is aborted so its connection is released rather than leaked from the pool.
 * Redirects are passed back as they are: dispatch never follows them.
 */
export function forward(agent: Dispatcher, res: ServerResponse, target: ForwardTarget, requestId: string, done: (outcome: ForwardOutcome) => void): void {
  let abort: ((reason?: Error) => void) | null = null;
  let upstreamStatus: number | null = null;
  let finished = false;
  let clientAborted = false;
  let resumeUpstream: (() => void) | null = null;

  const finish = (failure: RefusalReason | null, message?: string) => {
    if (finished) return;
    finished = true;
    res.off('close', onClientClose);
    res.off('drain', onDrain);
    done({ upstreamStatus, failure, responded: res.headersSent, clientAborted, message });
  };
  const onDrain = () => resumeUpstream?.();
  const onClientClose = () => {
    if (finished || res.writableFinished) return;
    clientAborted = true;
    abort?.(new Error('client closed the connection'));
  };
  res.on('close', onClientClose);

  const handler: Dispatcher.DispatchHandler = {
    onConnect(abortFn) {
      abort = abortFn;
      if (clientAborted) abortFn(new Error('client closed the connection'));
    },
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      if (statusCode < 200) return true; // 1xx informational: wait for the final response
      upstreamStatus = statusCode;
      resumeUpstream = resume;
      res.writeHead(statusCode, statusText, clientResponseHeaders(rawHeaders, requestId));
      res.on('drain', onDrain);
      return true;
    },
    onData(chunk) {
      return res.write(chunk);
    },
    onComplete() {
      res.end();
      finish(null);
    },
    onError(error) {
      if (clientAborted) {
        finish(null);
        return;
      }
      const failure = classifyUpstreamError(error);
      if (res.headersSent) {
        // Mid-body failure: the status is already out, so cut the client connection. An idle
        // upstream (undici's body timeout) is a timeout; any other failure after the headers
        // arrived, whatever its code, is the upstream dropping the response: a reset.
        res.destroy(error);
        finish(failure === 'upstream_timeout' ? 'upstream_timeout' : 'upstream_reset');
        return;
      }
      finish(failure, failure === 'address_not_allowed' ? error.message : undefined);
    },
  };

  agent.dispatch(
    {
      origin: target.origin,
      path: target.path,
      method: target.method,
      headers: target.headers,
      body: target.body,
      // Non-idempotent requests must not be retried on a fresh connection by undici.
      idempotent: false,
      blocking: false,
    },
    handler,
  );
}

/** Maps an undici or socket error to the refusal reason reported to the client. */
export function classifyUpstreamError(error: Error): RefusalReason {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'CRC_ADDRESS_REFUSED') return 'address_not_allowed';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return 'upstream_timeout';
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return 'upstream_reset';
  return 'upstream_unreachable';
}
