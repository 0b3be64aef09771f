import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH, hashEvent } from '../../audit/chain.js';
import type { AuditEvent } from '../../audit/event.js';
import { verifyStoredChains } from '../../audit/verify.js';
import { migrations } from './migrations.js';
import { SqliteStore } from './sqlite-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'caracal-migrate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A chain of events as a release before v4 stored them, hashed as every release hashes them. */
function v3Chain(zone: string | null, count: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const unhashed: Omit<AuditEvent, 'hash'> = {
      id: `evt_01JMIGRATE${String(seq).padStart(15, '0')}`.slice(0, 30) + (zone === null ? 'G' : 'Z'),
      seq,
      at: `2030-01-0${seq}T00:00:00.000Z`,
      zone,
      request_id: `req_${zone ?? 'global'}_${seq}`,
      type: seq % 2 === 0 ? 'gateway.request' : 'token.issued',
      app: zone === null ? null : 'app_1',
      resource: seq % 2 === 0 ? 'resource://billing' : null,
      scopes: ['read', 'write'],
      decision: seq === 3 ? 'deny' : 'allow',
      reason: seq === 3 ? 'method_not_allowed' : 'ok',
      category: seq === 3 ? 'policy' : null,
      policy: seq === 1 ? null : { set_id: 'pset_1', set_version: 2, versions: ['pol_1@2'], rules: ['r'] },
      // Numbers that only round-trip with every digit kept.
      http: seq % 2 === 0 ? { method: 'GET', path: `/v1/${seq}`, status: 200, upstream_status: null, latency_ms: 0.1 + 0.2 + seq / 3 } : null,
      token: { jti: `tok_${seq}`, exp: 1_900_000_000 + seq },
      detail: seq === 3 ? { nested: { list: [1, 2.5, 'x'], empty: {} }, unicode: 'é ✓' } : {},
      prev_hash: prev,
    };
    const event = { ...unhashed, hash: hashEvent(unhashed) };
    events.push(event);
    prev = event.hash;
  }
  return events;
}

/** A database at schema v3 holding `events` in the v3 row layout. */
function v3Database(file: string, events: readonly AuditEvent[]): void {
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  migrations.slice(0, 3).forEach((sql, i) => {
    db.exec(sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(i + 1, '2030-01-01T00:00:00.000Z');
  });
  const insert = db.prepare(
    `INSERT INTO audit_events (id, chain, seq, at, zone, request_id, type, app, resource, scopes, decision, reason, category,
       policy, http_method, http_path, http_status, http_upstream_status, http_latency_ms, token_jti, token_exp, detail, prev_hash, hash)
     VALUES (${Array.from({ length: 24 }, () => '?').join(', ')})`,
  );
  for (const e of events) {
    insert.run(
      e.id, e.zone ?? 'global', e.seq, e.at, e.zone, e.request_id, e.type, e.app, e.resource, JSON.stringify(e.scopes), e.decision,
      e.reason, e.category, e.policy === null ? null : JSON.stringify(e.policy), e.http?.method ?? null, e.http?.path ?? null,
      e.http?.status ?? null, e.http?.upstream_status ?? null, e.http?.latency_ms ?? null, e.token?.jti ?? null, e.token?.exp ?? null,
      JSON.stringify(e.detail), e.prev_hash, e.hash,
    );
  }
  db.close();
}

describe('migration v4 (the ledger row of eleven values)', () => {
  it('carries every stored event over field for field, so each chain still verifies and lists in time order', async () => {
    const file = join(dir, 'caracal.db');
    const zoned = v3Chain('zn_a', 6);
    const global = v3Chain(null, 2);
    v3Database(file, [...zoned, ...global]);

    const store = SqliteStore.open(file);
    try {
      expect(await store.readAuditChain('zn_a')).toEqual(zoned);
      expect(await store.readAuditChain('global')).toEqual(global);
      const results = await verifyStoredChains(store);
      expect(results.map((r) => [r.chain, r.ok, r.count])).toEqual([
        ['global', true, 2],
        ['zn_a', true, 6],
      ]);
      // Same time: the later appended (the global chain's) first.
      expect((await store.queryAudit({ resource: 'resource://billing' })).items.map((e) => e.request_id)).toEqual([
        'req_zn_a_6',
        'req_zn_a_4',
        'req_global_2',
        'req_zn_a_2',
      ]);
      expect((await store.queryAudit({ since: '2030-01-02T00:00:00Z', until: '2030-01-04T00:00:00Z' })).items.map((e) => e.request_id)).toEqual([
        'req_zn_a_3',
        'req_global_2',
        'req_zn_a_2',
      ]);
      // Appends continue each chain from its migrated head.
      const [next] = await store.appendAudit([{ type: 'admin.change', zone: 'zn_a', request_id: 'req_after', decision: 'allow', reason: 'ok' }]);
      expect(next).toMatchObject({ seq: 7, prev_hash: zoned[5]?.hash });
      expect(await store.auditPosition()).toBe(9);
    } finally {
      await store.close();
    }
    // A database made before 16 KiB pages keeps its own page size (new ones get PAGE_SIZE).
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('page_size', { simple: true })).toBe(4096);
    raw.close();
  });
});
