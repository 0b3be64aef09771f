import { createServer, type Server } from 'node:http';

/** The largest body the demo upstream echoes (it reads and counts the rest). */
const ECHO_LIMIT = 64 * 1024;
/** Headers echoed back (others are counted, not shown, so secrets in odd headers stay out). */
const ECHOED = ['content-type', 'content-length', 'user-agent', 'accept', 'x-request-id', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'authorization', 'x-api-key'];

/** Query parameter names that usually carry a credential (`api_key`, `access_token`, `sig`, …). */
const SECRET_PARAM = /key|token|secret|pass|auth|sig|credential/i;

/**
 * Says that a credential arrived without showing it: an `Authorization`-style value keeps its
 * scheme word (`present (Bearer …)`), anything else only its length.
 */
export function presence(value: string): string {
  const space = value.indexOf(' ');
  return space > 0 ? `present (${value.slice(0, space)} …)` : `present (${value.length} characters)`;
}

/**
 * The built-in demo upstream (`caracal demo-upstream`): answers every request with JSON echoing
 * the method, path, query, selected headers and the body, so the walkthrough needs no Docker.
 * `/status/<code>` answers with that status; `/slow/<ms>` waits first (at most 60 s). It shows
 * whether a credential arrived (`authorization`, `x-api-key`, and query parameters named like a
 * key, token, secret or password) as `present (…)`, never its value, which makes the Gateway's
 * credential stripping and injection visible without putting a provider's key on a terminal.
 */
export function createDemoUpstream(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= ECHO_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://demo');
      const headers: Record<string, string> = {};
      for (const name of ECHOED) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = name === 'authorization' || name === 'x-api-key' ? presence(value) : value;
      }
      const query: Record<string, string> = {};
      for (const [name, value] of url.searchParams) query[name] = SECRET_PARAM.test(name) ? presence(value) : value;
      const status = /^\/status\/(\d{3})$/.exec(url.pathname);
      const slow = /^\/slow\/(\d{1,5})$/.exec(url.pathname);
      const code = status ? Number(status[1]) : 200;
      const body = JSON.stringify({
        service: 'caracal-demo-upstream',
        method: req.method,
        path: url.pathname,
        query,
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        body_bytes: size,
      });
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(code >= 100 && code <= 599 ? code : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (slow) setTimeout(send, Math.min(60_000, Number(slow[1])));
      else send();
    });
  });
}
