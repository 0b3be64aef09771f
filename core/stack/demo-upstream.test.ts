import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoUpstream, presence } from './demo-upstream.js';

describe('demo upstream', () => {
  const server = createDemoUpstream();
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('echoes method, path, query and body, and answers /status/<code> with that code', async () => {
    const echoed = await fetch(`${base}/v1/items?page=2`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(echoed.status).toBe(200);
    const body = (await echoed.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ method: 'POST', path: '/v1/items', query: { page: '2' }, body: 'hello', body_bytes: 5 });
    expect((await fetch(`${base}/status/418`)).status).toBe(418);
  });

  it('shows that a credential arrived, never its value (headers and key-like query parameters)', async () => {
    const key = 'sk-live-0123456789abcdef';
    const answer = await fetch(`${base}/v1?api_key=${key}&access_token=${key}&q=cats`, {
      headers: { authorization: `Bearer ${key}`, 'x-api-key': key },
    });
    const text = await answer.text();
    expect(text).not.toContain(key);
    const body = JSON.parse(text) as { headers: Record<string, string>; query: Record<string, string> };
    expect(body.headers.authorization).toBe('present (Bearer …)');
    expect(body.headers['x-api-key']).toBe(`present (${key.length} characters)`);
    expect(body.query).toEqual({ api_key: `present (${key.length} characters)`, access_token: `present (${key.length} characters)`, q: 'cats' });
  });

  it('presence keeps a scheme word and hides everything after it', () => {
    expect(presence('Basic dXNlcjpwYXNz')).toBe('present (Basic …)');
    expect(presence('abc')).toBe('present (3 characters)');
  });
});
