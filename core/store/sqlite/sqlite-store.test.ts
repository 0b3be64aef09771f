import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEventInput } from '../../audit/event.js';
import { describeStoreContract, expectContinuous } from '../store-contract.js';
import { SqliteStore } from './sqlite-store.js';
import { WATCH_INTERVAL_MS } from './sqlite-watcher.js';

describeStoreContract('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caracal-store-'));
  const store = SqliteStore.open(join(dir, 'caracal.db'));
  return Promise.resolve({
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

const event = (zone: string | null, n: number): AuditEventInput => ({
  type: 'gateway.request',
  zone,
  request_id: `req_${n}`,
  decision: 'allow',
  reason: 'ok',
});

describe('SQLite: two stores on one file (as the control plane and the Gateway)', () => {
  let dir: string;
  let a: SqliteStore;
  let b: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'caracal-shared-'));
    a = SqliteStore.open(join(dir, 'caracal.db'));
    b = SqliteStore.open(join(dir, 'caracal.db'));
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every chain continuous when both append interleaved batches', async () => {
    const z1 = (await a.createZone({ name: 'one', kind: 'evaluation' })).id;
    const z2 = (await b.createZone({ name: 'two', kind: 'evaluation' })).id;
    const chains = [z1, z2, null];
    let n = 0;
    const pending: Promise<unknown>[] = [];
    for (let round = 0; round < 20; round++) {
      for (const store of [a, b]) {
        const batch = Array.from({ length: 10 + round }, () => event(chains[n % 3] ?? null, n++));
        pending.push(store.appendAudit(batch));
      }
    }
    await Promise.all(pending);
    let total = 0;
    for (const chain of [z1, z2, 'global']) {
      const events = await a.readAuditChain(chain, 1, 10_000);
      expectContinuous(events, chain);
      total += events.length;
    }
    expect(total).toBe(n);
  });

  it('watch fires when the other store changes configuration, within a second', async () => {
    const listener = vi.fn();
    const stop = a.watch(listener);
    await b.createZone({ name: 'eval', kind: 'evaluation' });
    await vi.waitFor(() => expect(listener).toHaveBeenCalledTimes(1), { timeout: 1000, interval: 50 });
    stop();
  });

  it('watch ignores audit appends, this store\'s own writes, and stops when unsubscribed', async () => {
    const zone = await a.createZone({ name: 'eval', kind: 'evaluation' });
    const listener = vi.fn();
    const stop = a.watch(listener);
    await b.appendAudit([event(zone.id, 1)]);
    await a.createApp({ zoneId: zone.id, name: 'own', secretHash: 'hmac-sha256:00' });
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS * 3));
    expect(listener).not.toHaveBeenCalled();

    await b.setSetting('x', 'y');
    await b.addRevocation({
      kind: 'jti',
      value: 'tok_1',
      zoneId: zone.id,
      reason: 'test',
      createdAt: new Date().toISOString(),
      notBefore: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await vi.waitFor(() => expect(listener).toHaveBeenCalled(), { timeout: 1000, interval: 50 });

    stop();
    listener.mockClear();
    await b.createZone({ name: 'later', kind: 'production' });
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS * 3));
    expect(listener).not.toHaveBeenCalled();
  });

  it('sees the other store\'s writes immediately (no caching across calls)', async () => {
    const zone = await a.createZone({ name: 'eval', kind: 'evaluation' });
    expect(await b.getZone(zone.id)).toEqual(zone);
    await b.updateZone(zone.id, { description: 'changed by b' });
    expect((await a.getZone(zone.id))?.description).toBe('changed by b');
  });
});

describe('SQLite: closing', () => {
  it('refuses calls after close with CRC_SERVICE_UNAVAILABLE, and close is idempotent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caracal-close-'));
    const store = SqliteStore.open(join(dir, 'caracal.db'));
    await store.close();
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'CRC_SERVICE_UNAVAILABLE' });
    expect(() => store.watch(() => undefined)).toThrow(expect.objectContaining({ code: 'CRC_SERVICE_UNAVAILABLE' }));
    rmSync(dir, { recursive: true, force: true });
  });
});
