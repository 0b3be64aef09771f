import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../core/audit/event.js';
import { openStore } from '../core/store/open-store.js';
import { openAuditChannel } from './audit-channel.js';

let home: string | undefined;
afterEach(() => {
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

function event(requestId: string, detail: Record<string, unknown> = {}): AuditEventInput {
  return {
    type: 'gateway.request',
    at: new Date().toISOString(),
    zone: null,
    request_id: requestId,
    decision: 'allow',
    reason: 'ok',
    http: { method: 'GET', path: '/v1/items', status: 200, upstream_status: 200, latency_ms: 1.5 },
    detail,
  };
}

describe('the audit channel (the Gateway side of its audit thread)', () => {
  it('stores what it is given as given, and drops, reporting it, only an event JSON cannot hold', async () => {
    home = mkdtempSync(join(tmpdir(), 'caracal-channel-'));
    const errors: string[] = [];
    const channel = await openAuditChannel({ home, databaseUrl: '' }, (message) => errors.push(message));
    channel.append(event('req_a', { note: 'kept', n: 2 }));
    for (let i = 0; i < 3; i++) channel.append(event(`req_b${i}`, { big: 10n }));
    channel.append(event('req_c'));
    const stats = await channel.close();
    expect(stats).toMatchObject({ dropped: 3, pending: 0 });
    // One report for the drops of one batch, not one per request.
    expect(errors).toEqual([expect.stringMatching(/^3 audit event\(s\) could not be written as JSON and were dropped: .*BigInt/)]);

    const store = await openStore({ home });
    try {
      const stored = (await store.readAuditChain('global')).filter((e) => e.type === 'gateway.request');
      expect(stored.map((e) => e.request_id)).toEqual(['req_a', 'req_c']);
      expect(stored[0]).toMatchObject({ detail: { note: 'kept', n: 2 }, http: { method: 'GET', path: '/v1/items', status: 200, latency_ms: 1.5 } });
    } finally {
      await store.close();
    }
  });

  it('counts and reports, once, events that arrive after it was closed', async () => {
    home = mkdtempSync(join(tmpdir(), 'caracal-channel-'));
    const errors: string[] = [];
    const channel = await openAuditChannel({ home, databaseUrl: '' }, (message) => errors.push(message));
    channel.append(event('req_stored'));
    expect(await channel.close()).toMatchObject({ recorded: 1, dropped: 0 });
    channel.append(event('req_late1'));
    channel.append(event('req_late2'));
    expect(channel.stats()).toMatchObject({ dropped: 2, pending: 0 });
    expect(errors).toEqual([expect.stringMatching(/arrived after the audit writer was closed/)]);
  });
});
