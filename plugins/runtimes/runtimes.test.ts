import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Profile, ProfileCredential } from '../../core/profile/profile.js';
import type { RuntimeContext } from '../../core/run/runtime.js';
import type { IssuedToken } from '../../core/run/token-client.js';
import { envRuntime } from './env.js';
import { fileRuntime } from './file.js';
import { proxyRuntime } from './proxy.js';

const credential: ProfileCredential = { resource: 'resource://billing-api', scopes: ['billing:read'], env: 'CARACAL_BILLING_API_TOKEN' };

/** A runtime context whose n-th token is `tok-n`, due for refresh `refreshInMs` after it is issued. */
function context(gatewayUrl: string, refreshInMs = 600_000): RuntimeContext & { issued: () => number; warnings: string[] } {
  let n = 0;
  const warnings: string[] = [];
  return {
    profile: { credentials: [credential] } as unknown as Profile,
    gatewayUrl,
    credentials: [credential],
    token(): Promise<IssuedToken> {
      n++;
      const now = Date.now();
      return Promise.resolve({ accessToken: `tok-${n}`, resource: credential.resource, scopes: credential.scopes, issuedAt: now, expiresAt: now + 600_000, refreshAt: now + refreshInMs });
    },
    warn: (m) => warnings.push(m),
    issued: () => n,
    warnings,
  };
}

describe('env runtime', () => {
  it('puts the token in the variable the profile names', async () => {
    const handle = await envRuntime.launch(context('http://127.0.0.1:9'));
    expect(handle.env).toEqual({ CARACAL_BILLING_API_TOKEN: 'tok-1' });
    await handle.close();
  });
});

describe('file runtime', () => {
  it('writes an owner-only file in a private folder, replaces it before expiry, removes the folder on close', async () => {
    const ctx = context('http://127.0.0.1:9', 0);
    const handle = await fileRuntime.launch(ctx);
    const path = handle.env.CARACAL_BILLING_API_TOKEN_FILE as string;
    expect(Object.keys(handle.env)).toEqual(['CARACAL_BILLING_API_TOKEN_FILE']);
    expect(readFileSync(path, 'utf8')).toBe('tok-1');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    // Due at once: the first refresh comes after the one-second floor.
    const deadline = Date.now() + 5000;
    while (readFileSync(path, 'utf8') === 'tok-1' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(path, 'utf8')).toBe('tok-2');
    await handle.close();
    expect(existsSync(dirname(path))).toBe(false);
    const issued = ctx.issued();
    await new Promise((r) => setTimeout(r, 1200));
    expect(ctx.issued()).toBe(issued);
  });
});

describe('proxy runtime', () => {
  it('adds the token and the resource header, drops what the child sent in their place, streams both ways', async () => {
    const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(201, { 'content-type': 'text/plain', 'x-request-id': 'req_1' });
        res.end(`echo:${body}`);
      });
    });
    gateway.listen(0, '127.0.0.1');
    await once(gateway, 'listening');
    const handle = await proxyRuntime.launch(context(`http://127.0.0.1:${(gateway.address() as AddressInfo).port}`));
    try {
      const url = new URL(`${handle.env.CARACAL_BILLING_API_TOKEN_URL as string}/invoices?x=1`);
      expect(Object.keys(handle.env)).toEqual(['CARACAL_BILLING_API_TOKEN_URL']);
      expect(url.hostname).toBe('127.0.0.1');
      const answer = await new Promise<{ status: number; body: string; requestId: unknown }>((resolve, reject) => {
        const req = request(url, { method: 'POST', headers: { authorization: 'Bearer forged', 'x-caracal-resource': 'resource://other', 'x-app': 'yes', 'transfer-encoding': 'chunked' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, requestId: res.headers['x-request-id'] }));
        });
        req.on('error', reject);
        req.write('part1-');
        req.end('part2');
      });
      expect(answer).toEqual({ status: 201, body: 'echo:part1-part2', requestId: 'req_1' });
      expect(seen[0]).toMatchObject({ method: 'POST', url: '/invoices?x=1', body: 'part1-part2' });
      expect(seen[0]?.headers).toMatchObject({ authorization: 'Bearer tok-1', 'x-caracal-resource': 'resource://billing-api', 'x-app': 'yes' });
    } finally {
      await handle.close();
      gateway.close();
    }
  });

  it('answers 502 with a JSON body when the Gateway cannot be reached', async () => {
    const ctx = context('http://127.0.0.1:9');
    const handle = await proxyRuntime.launch(ctx);
    try {
      const response = await fetch(`${handle.env.CARACAL_BILLING_API_TOKEN_URL as string}/x`);
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ error: 'gateway_unreachable' });
      expect(ctx.warnings[0]).toMatch(/the Gateway at http:\/\/127\.0\.0\.1:9 failed \(ECONNREFUSED\)/);
    } finally {
      await handle.close();
    }
  });
});
