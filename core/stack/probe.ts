import { request } from 'node:http';

/** The answer of one health or readiness probe. */
export interface ProbeResult {
  readonly ok: boolean;
  /** HTTP status, or null when nothing answered. */
  readonly status: number | null;
  /** The service's own detail (`/readyz` body), or why nothing answered. */
  readonly detail: string;
  /** `refused`, `timeout` or `error` when nothing answered. */
  readonly failure: 'refused' | 'timeout' | 'error' | null;
}

/**
 * GETs `url` with a hard deadline, so a hung service cannot make `caracal status` hang (DESIGN.md
 * §2: status answers within 2 s). Reads at most 4 KiB of the body.
 */
export function probe(url: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request(url, { method: 'GET', agent: false, headers: { accept: 'application/json' } }, (res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => {
        done({ ok: status === 200, status, detail: detailOf(body, status), failure: null });
      });
      res.on('error', () => done({ ok: false, status, detail: 'connection dropped mid-answer', failure: 'error' }));
    });
    const timer = setTimeout(() => done({ ok: false, status: null, detail: `no answer within ${timeoutMs} ms`, failure: 'timeout' }), timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'ECONNREFUSED';
      done({ ok: false, status: null, detail: refused ? 'connection refused' : error.message, failure: refused ? 'refused' : 'error' });
    });
    req.end();
  });
}

function detailOf(body: string, status: number): string {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown };
    if (typeof parsed.detail === 'string') return parsed.detail;
  } catch {
    // not JSON: fall through
  }
  return status === 200 ? 'ok' : `HTTP ${status}`;
}
