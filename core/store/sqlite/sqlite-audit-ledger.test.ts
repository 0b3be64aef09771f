import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditQuery } from '../../audit/event.js';
import { migrations } from './migrations.js';
import { SqliteAuditLedger } from './sqlite-audit-ledger.js';

/**
 * The ledger's queries at scale depend on SQLite walking the right index in the wanted order
 * (bench/explain.ts measures them at 1,000,000 events). These tests read SQLite's own plan for
 * each query shape, so a change that makes a list sort a whole zone or scan the table fails here.
 */
let db: Database.Database;
let ledger: SqliteAuditLedger;
let statements: string[];

beforeEach(() => {
  db = new Database(':memory:');
  for (const sql of migrations) db.exec(sql);
  statements = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    statements.push(sql);
    return prepare(sql);
  });
  ledger = new SqliteAuditLedger(db);
  ledger.append([
    { type: 'token.issued', zone: 'zn_a', request_id: 'req_1', decision: 'allow', reason: 'ok', app: 'app_1', resource: 'resource://r', token: { jti: 'tok_1', exp: 1 } },
    { type: 'gateway.request', zone: 'zn_b', request_id: 'req_2', decision: 'allow', reason: 'ok', app: 'app_2', resource: 'resource://r', token: { jti: 'tok_2', exp: 1 } },
  ]);
});

afterEach(() => {
  db.close();
});

/** SQLite's plan for the last statement the ledger prepared, one line per step. */
function planOf(run: () => unknown): string {
  statements = [];
  run();
  const sql = statements.at(-1);
  if (sql === undefined) throw new Error('the ledger prepared no statement (it was cached: use a fresh shape)');
  const params = (sql.match(/\?/g) ?? []).map(() => 'x');
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
  return rows.map((row) => row.detail).join('\n');
}

const since = '2030-01-01T00:00:00.000Z';
const until = '2030-01-02T00:00:00.000Z';

describe('the SQLite ledger walks one index range, in list order, for every filter', () => {
  it.each<[string, AuditQuery, string]>([
    ['a zone', { zone: 'zn_a' }, 'audit_events_chain_at'],
    ['an old window in a zone', { zone: 'zn_a', since, until }, 'audit_events_chain_at'],
    ['a zone and a decision', { zone: 'zn_a', decision: 'deny' }, 'audit_events_chain_at'],
    ['an app in a zone, since', { zone: 'zn_a', app: 'app_1', type: 'gateway.request', since }, 'audit_events_app_at'],
    ['a resource and a decision', { resource: 'resource://r', decision: 'error' }, 'audit_events_resource_at'],
    ['a token issuance (jti and its type)', { jti: 'tok_1', type: 'token.issued' }, 'audit_events_issuance'],
    ['a token\'s calls', { jti: 'tok_1', type: 'gateway.request' }, 'audit_events_jti_at'],
    ['a rare type', { type: 'admin.change', since }, 'audit_events_type_at'],
    ['a request ID', { requestId: 'req_1', zone: 'zn_a' }, 'audit_events_request_id'],
  ])('%s', (_name, query, index) => {
    const plan = planOf(() => ledger.query(query));
    expect(plan).toContain(`USING INDEX ${index}`);
    // A request's or a token issuance's few events are sorted; every other range is read in order.
    if (query.requestId === undefined && query.type !== 'token.issued') expect(plan).not.toContain('TEMP B-TREE');
  });

  it('merges the zones for a list without a zone or an indexed filter, each by its (chain, at) range', () => {
    for (const query of [{}, { since }, { type: 'gateway.request' as const, decision: 'deny' as const }]) {
      const plan = planOf(() => ledger.query(query));
      expect(plan).toContain('USING INDEX audit_events_chain_at (chain=?');
      expect(plan).not.toContain('TEMP B-TREE');
    }
    expect(ledger.query({}).items.map((e) => e.request_id)).toEqual(['req_2', 'req_1']);
  });

  it('continues a page from its cursor within the same index range', () => {
    ledger.append([{ type: 'admin.change', zone: 'zn_a', request_id: 'req_3', decision: 'allow', reason: 'ok' }]);
    const cursor = ledger.query({ zone: 'zn_a', limit: 1 }).nextCursor ?? '';
    expect(planOf(() => ledger.query({ zone: 'zn_a', limit: 1, cursor }))).toMatch(/USING INDEX audit_events_chain_at \(chain=\? AND at<\?\)/);
  });

  it('tails by append position, whatever the filters', () => {
    for (const query of [{}, { zone: 'zn_a' }, { app: 'app_1', type: 'token.issued' as const }, { jti: 'tok_1' }]) {
      expect(planOf(() => ledger.readAfter(query, 0, 10))).toContain('USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)');
    }
  });
});
