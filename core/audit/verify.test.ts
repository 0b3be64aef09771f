import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { homePaths } from '../config/paths.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { GENESIS_HASH, hashEvent } from './chain.js';
import type { AuditEvent, AuditEventInput } from './event.js';
import { createMemoryLedger } from './test-support/memory-ledger.js';
import { type ChainFault, verifyChain, verifyChains, verifyStoredChains } from './verify.js';

function input(n: number, zone: string | null = 'zn_a'): AuditEventInput {
  return { type: 'gateway.request', zone, request_id: `req_${n}`, decision: 'allow', reason: 'ok', detail: { n } };
}

async function chainOf(count: number): Promise<AuditEvent[]> {
  const ledger = createMemoryLedger();
  await ledger.record(Array.from({ length: count }, (_, i) => input(i + 1)));
  return ledger.events;
}

/** The event with its hash recomputed, as a forger who knows the algorithm would. */
function rehash(event: Omit<AuditEvent, 'hash'> & { hash?: string }): AuditEvent {
  const { hash: _old, ...body } = event;
  return { ...body, hash: hashEvent(body) };
}

/** The event at seq `seq` of a 1-based chain. */
function at(events: readonly AuditEvent[], seq: number): AuditEvent {
  const event = events[seq - 1];
  if (!event) throw new Error(`no event at seq ${seq}`);
  return event;
}

describe('verifyChain', () => {
  it('accepts an intact chain and returns its head', async () => {
    const events = await chainOf(10);
    expect(verifyChain(events)).toEqual({ ok: true, count: 10, head: { seq: 10, hash: at(events, 10).hash } });
  });

  it('accepts an empty chain, with no head', () => {
    expect(verifyChain([])).toEqual({ ok: true, count: 0, head: null });
  });

  const tampering: [string, (events: AuditEvent[]) => AuditEvent[], number, ChainFault, RegExp][] = [
    ['an edited field', (e) => e.map((x) => (x.seq === 4 ? { ...x, decision: 'deny' } : x)), 4, 'hash_mismatch', /was edited/],
    ['an edited detail', (e) => e.map((x) => (x.seq === 4 ? { ...x, detail: { n: 400 } } : x)), 4, 'hash_mismatch', /was edited/],
    ['an edited and rehashed event', (e) => e.map((x) => (x.seq === 4 ? rehash({ ...x, reason: 'forged' }) : x)), 5, 'broken_link', /prev_hash/],
    ['a deleted event', (e) => e.filter((x) => x.seq !== 4), 5, 'seq_gap', /seq 4 is missing/],
    ['three deleted events', (e) => e.filter((x) => x.seq < 4 || x.seq > 6), 7, 'seq_gap', /seq 4–6 are missing/],
    ['a deleted first event', (e) => e.slice(1), 2, 'seq_gap', /seq 1 is missing/],
    ['two swapped events', (e) => [...e.slice(0, 3), at(e, 5), at(e, 4), ...e.slice(5)], 5, 'seq_out_of_order', /before seq 4/],
    ['the last event moved to the front', (e) => [at(e, 10), ...e.slice(0, 9)], 10, 'seq_out_of_order', /reordered/],
    ['an event repeated later', (e) => [...e, at(e, 3)], 3, 'seq_out_of_order', /follows seq 10/],
    ['an inserted copy', (e) => [...e.slice(0, 4), { ...at(e, 4), id: 'evt_forged' }, ...e.slice(4)], 4, 'duplicate_seq', /appears twice/],
    [
      'an event replaced by a forgery with a valid hash',
      (e) => [...e.slice(0, 4), rehash({ ...at(e, 5), id: 'evt_forged', reason: 'forged', prev_hash: at(e, 4).hash }), ...e.slice(5)],
      6,
      'broken_link',
      /hash of seq 5/,
    ],
  ];

  it.each(tampering)('names the first bad event after %s', async (_name, tamper, seq, reason, message) => {
    const tampered = tamper(await chainOf(10));
    const result = verifyChain(tampered);
    expect(result).toMatchObject({ ok: false, firstBad: { seq, reason } });
    if (result.ok) return;
    expect(result.message).toMatch(message);
    expect(tampered.some((x) => x.id === result.firstBad.id && x.seq === seq)).toBe(true);
  });

  it('names the inserted copy, not the original, on a duplicate seq', async () => {
    const events = await chainOf(10);
    const result = verifyChain([...events.slice(0, 4), { ...at(events, 4), id: 'evt_forged' }, ...events.slice(4)]);
    expect(result).toMatchObject({ ok: false, count: 4, firstBad: { seq: 4, id: 'evt_forged', reason: 'duplicate_seq' } });
  });

  it('cannot see a truncated tail by itself (that is what signed checkpoints are for)', async () => {
    const events = await chainOf(10);
    expect(verifyChain(events.slice(0, 7))).toMatchObject({ ok: true, count: 7, head: { seq: 7 } });
  });

  it('verifies a suffix from a known head', async () => {
    const events = await chainOf(10);
    const after = { seq: 5, hash: at(events, 5).hash };
    expect(verifyChain(events.slice(5), { after })).toEqual({ ok: true, count: 5, head: { seq: 10, hash: at(events, 10).hash } });
    expect(verifyChain(events.slice(5), { after: { seq: 5, hash: GENESIS_HASH } })).toMatchObject({
      ok: false,
      firstBad: { seq: 6, reason: 'broken_link' },
    });
    expect(verifyChain([], { after })).toEqual({ ok: true, count: 0, head: after });
  });

  it('stops at the first fault even when later events are also bad', async () => {
    const events = (await chainOf(10)).map((x) => (x.seq === 3 || x.seq === 8 ? { ...x, reason: 'edited' } : x));
    expect(verifyChain(events)).toMatchObject({ ok: false, count: 2, firstBad: { seq: 3 } });
  });
});

describe('verifyChains', () => {
  it('verifies each chain of a mixed stream on its own', async () => {
    const ledger = createMemoryLedger();
    await ledger.record([input(1, 'zn_a'), input(2, 'zn_b'), input(3, null), input(4, 'zn_a'), input(5, 'zn_b')]);
    const tampered = ledger.events.map((x) => (x.zone === 'zn_b' && x.seq === 2 ? { ...x, reason: 'edited' } : x));
    const results = verifyChains(tampered);
    expect([...results.keys()].sort()).toEqual(['global', 'zn_a', 'zn_b']);
    expect(results.get('zn_a')).toMatchObject({ ok: true, count: 2 });
    expect(results.get('global')).toMatchObject({ ok: true, count: 1 });
    expect(results.get('zn_b')).toMatchObject({ ok: false, firstBad: { seq: 2, reason: 'hash_mismatch' } });
  });
});

describe('verifyStoredChains against a real SQLite ledger', () => {
  let home: string;
  let store: Store | undefined;

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'caracal-verify-'));
    const setup = await openStore({ home });
    // Two chains, written in several transactions; pages of 7 force the reader across pages.
    for (let i = 0; i < 30; i += 10) {
      await setup.appendAudit(Array.from({ length: 10 }, (_, j) => input(i + j + 1, (i + j) % 3 === 0 ? 'zn_b' : 'zn_a')));
    }
    await setup.close();
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(home, { recursive: true, force: true });
  });

  /** Tampers with the database file the way someone with file access could, bypassing the store. */
  function tamper(sql: (db: Database.Database) => void): void {
    const db = new Database(homePaths(home).database);
    try {
      db.exec('DROP TRIGGER IF EXISTS audit_events_no_update');
      sql(db);
    } finally {
      db.close();
    }
  }

  async function verify() {
    store = await openStore({ home });
    const results = await verifyStoredChains(store, { pageSize: 7 });
    return Object.fromEntries(results.map(({ chain, ...result }) => [chain, result]));
  }

  it('accepts the untouched chains, reading page by page', async () => {
    const results = await verify();
    expect(results).toMatchObject({ zn_a: { ok: true, count: 20, head: { seq: 20 } }, zn_b: { ok: true, count: 10, head: { seq: 10 } } });
  });

  const cases: [string, string, number, ChainFault][] = [
    ['an edited field', "UPDATE audit_events SET decision = 'deny' WHERE chain = 'zn_a' AND seq = 9", 9, 'hash_mismatch'],
    ['an edited detail', `UPDATE audit_events SET body = json_set(body, '$.detail', json('{"n":999}')) WHERE chain = 'zn_a' AND seq = 9`, 9, 'hash_mismatch'],
    ['an edited reason', `UPDATE audit_events SET body = json_set(body, '$.reason', 'ok-forged') WHERE chain = 'zn_a' AND seq = 9`, 9, 'hash_mismatch'],
    ['a deleted row', "DELETE FROM audit_events WHERE chain = 'zn_a' AND seq = 9", 10, 'seq_gap'],
    ['a deleted row at a page boundary', "DELETE FROM audit_events WHERE chain = 'zn_a' AND seq = 7", 8, 'seq_gap'],
    [
      'two swapped rows',
      `UPDATE audit_events SET seq = -1 WHERE chain = 'zn_a' AND seq = 9;
       UPDATE audit_events SET seq = 9 WHERE chain = 'zn_a' AND seq = 10;
       UPDATE audit_events SET seq = 10 WHERE chain = 'zn_a' AND seq = -1;`,
      9,
      'hash_mismatch',
    ],
  ];

  it.each(cases)('names the first bad event after %s in the file', async (_name, sql, seq, reason) => {
    tamper((db) => db.exec(sql));
    const results = await verify();
    expect(results.zn_a).toMatchObject({ ok: false, firstBad: { seq, reason } });
    expect(results.zn_b).toMatchObject({ ok: true, count: 10 });
  });

  it('names a forged row inserted with a made-up hash', async () => {
    tamper((db) => {
      db.exec("UPDATE audit_events SET seq = -seq WHERE chain = 'zn_a' AND seq > 9");
      db.exec("UPDATE audit_events SET seq = -seq + 1 WHERE chain = 'zn_a' AND seq < 0");
      db.exec(
        `INSERT INTO audit_events (chain, seq, at, request_id, type, app, resource, decision, token_jti, body, hash)
         SELECT chain, 10, at, 'req_forged', type, app, resource, 'allow', token_jti,
           json_set(body, '$.id', 'evt_forged', '$.reason', 'ok', '$.prev_hash', hash), '${'f'.repeat(64)}'
         FROM audit_events WHERE chain = 'zn_a' AND seq = 9`,
      );
    });
    const results = await verify();
    expect(results.zn_a).toMatchObject({ ok: false, count: 9, firstBad: { seq: 10, id: 'evt_forged', reason: 'hash_mismatch' } });
  });

  it('names the displaced event when a forged row is inserted with a correct hash', async () => {
    const setup = await openStore({ home });
    const [ninth] = await setup.readAuditChain('zn_a', 9, 1);
    await setup.close();
    if (!ninth) throw new Error('no seq 9');
    const { hash: _ignored, ...body } = ninth;
    const forged = rehash({ ...body, id: 'evt_forged', seq: 10, request_id: 'req_forged', prev_hash: ninth.hash });
    tamper((db) => {
      db.exec("UPDATE audit_events SET seq = -seq WHERE chain = 'zn_a' AND seq > 9");
      db.exec("UPDATE audit_events SET seq = -seq + 1 WHERE chain = 'zn_a' AND seq < 0");
      db.prepare(
        `INSERT INTO audit_events (chain, seq, at, request_id, type, app, resource, decision, token_jti, body, hash)
         SELECT chain, ?, at, ?, type, app, resource, decision, token_jti, json_set(body, '$.id', ?, '$.prev_hash', ?), ?
         FROM audit_events WHERE chain = 'zn_a' AND seq = 9`,
      ).run(forged.seq, forged.request_id, forged.id, forged.prev_hash, forged.hash);
    });
    const results = await verify();
    // The forgery itself is self-consistent; the chain breaks at the event it pushed aside.
    expect(results.zn_a).toMatchObject({ ok: false, count: 10, firstBad: { seq: 11, reason: 'hash_mismatch' } });
  });
});
