import { once } from 'node:events';
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ProfileCredential } from '../../core/profile/profile.js';
import type { RuntimeContext, RuntimeHandle } from '../../core/run/runtime.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy sets itself. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization']);

/** Starts one forwarding listener per credential; `close` stops them all. */
export async function launchProxy(ctx: RuntimeContext): Promise<RuntimeHandle> {
  const gateway = new URL(ctx.gatewayUrl);
  const secure = gateway.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const servers: Server[] = [];
  const env: Record<string, string> = {};
  const close = async () => {
    await Promise.all(
      servers.map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
    agent.destroy();
  };
  try {
    for (const credential of ctx.credentials) {
      const server = createServer((req, res) => forward(ctx, credential, gateway, secure, agent, req, res));
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      env[`${credential.env}_URL`] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { env, close };
}

function forward(ctx: RuntimeContext, credential: ProfileCredential, gateway: URL, secure: boolean, agent: HttpAgent | HttpsAgent, req: IncomingMessage, res: ServerResponse): void {
  const fail = (status: number, error: string, message: string) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ error, message, category: 'runtime_config', hint: 'see the caracal run output on stderr' });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  ctx.token(credential).then(
    (token) => {
      const headers: OutgoingHttpHeaders = {};
      const named = new Set((req.headers.connection ?? '').split(',').map((t) => t.trim().toLowerCase()));
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || DROPPED.has(name) || named.has(name) || name.startsWith('x-caracal-')) continue;
        headers[name] = value;
      }
      headers.authorization = `Bearer ${token.accessToken}`;
      headers['x-caracal-resource'] = credential.resource;
      const basePath = gateway.pathname.replace(/\/+$/, '');
      const upstream = (secure ? httpsRequest : httpRequest)({
        protocol: gateway.protocol,
        hostname: gateway.hostname,
        port: gateway.port,
        method: req.method,
        path: basePath + (req.url ?? '/'),
        headers,
        agent,
      });
      upstream.on('response', (answer) => {
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !DROPPED.has(name)) out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        ctx.warn(`proxy for ${credential.resource}: the Gateway at ${gateway.origin} failed (${error.code ?? error.message})`);
        fail(502, 'gateway_unreachable', `caracal run could not reach the Gateway at ${gateway.origin}`);
      });
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    },
    (error: unknown) => {
      ctx.warn(`proxy for ${credential.resource}: no token (${(error as Error).message})`);
      fail(503, 'token_unavailable', `caracal run could not obtain a token for ${credential.resource}`);
    },
  );
}
