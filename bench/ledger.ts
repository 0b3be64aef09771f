import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createAuditLog } from '../core/audit/audit-log.js';
import type { AuditEventInput } from '../core/audit/event.js';
import { verifyStoredChains } from '../core/audit/verify.js';
import { homePaths } from '../core/config/paths.js';
import { newId } from '../core/domain/ids.js';
import { openStore } from '../core/store/open-store.js';
import { ledgerSink } from '../plugins/sink-ledger/index.js';
import { round, type Benchmark, type Figure } from './harness.js';

const EVENTS = 100_000;
const BATCH = 500;
const ROUNDS = 3;
const ZONES = ['zn_bench_a', 'zn_bench_b'];

/** A realistic Gateway event (what the hot path records for every proxied request). */
function gatewayEvent(n: number): AuditEventInput {
  return {
    type: 'gateway.request',
    zone: ZONES[n % ZONES.length] ?? null,
    request_id: `req_bench_${n}`,
    app: 'app_01JBENCH0000000000000000AP',
    resource: 'resource://billing-api',
    scopes: ['billing:read'],
    decision: 'allow',
    reason: 'ok',
    category: null,
    policy: { set_id: 'pset_01JBENCH000000000000000PS', set_version: 3, versions: ['pol_01JBENCH0000000000000000PO@2'], rules: ['allow-read'] },
    http: { method: 'GET', path: `/v1/invoices/${n}`, status: 200, upstream_status: 200, latency_ms: 1.7 },
    token: { jti: `tok_bench_${n}`, exp: 1_900_000_000 },
    detail: { upstream: 'http://127.0.0.1:9000', bytes: 512 },
  };
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Appends through the audit log into the ledger as a server would (a batch's worth of requests,
 * then back to the event loop), until everything is committed. Returns events/s and the
 * producer-side cost of one append in µs.
 */
async function ledgerRound(home: string, offset: number): Promise<{ perSecond: number; appendMicros: number }> {
  const store = await openStore({ home });
  const log = createAuditLog({ recorder: ledgerSink(store), batchSize: BATCH });
  let appendNs = 0n;
  const started = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i += BATCH) {
    const t0 = process.hrtime.bigint();
    for (let j = i; j < i + BATCH; j++) log.append(gatewayEvent(offset + j));
    appendNs += process.hrtime.bigint() - t0;
    await yieldToLoop();
  }
  await log.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await log.close();
  const stats = log.stats();
  await store.close();
  if (stats.recorded !== EVENTS || stats.dropped !== 0) {
    throw new Error(`ledger round recorded ${stats.recorded} of ${EVENTS} events (dropped ${stats.dropped})`);
  }
  return { perSecond: EVENTS / seconds, appendMicros: Number(appendNs) / 1e3 / EVENTS };
}

/**
 * The same rows, plainly inserted (no chain head lookup, no canonical JSON, no SHA-256), 500 per
 * transaction, into a scratch database next to the store's (the store refuses foreign tables in
 * its own file) with the ledger's table definition, indexes and pragmas.
 */
function plainRound(home: string, offset: number): number {
  const source = new Database(homePaths(home).database, { readonly: true });
  const schema = source
    .prepare("SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND tbl_name = 'audit_events' AND sql IS NOT NULL ORDER BY type DESC")
    .pluck()
    .all() as string[];
  source.close();
  const db = new Database(join(home, 'scratch.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const sql of schema) db.exec(sql.replace(/^CREATE (UNIQUE )?(TABLE|INDEX) /, 'CREATE $1$2 IF NOT EXISTS '));
  const columns = (db.pragma('table_info(audit_events)') as { name: string }[]).map((c) => c.name).filter((name) => name !== 'n');
  const insert = db.prepare(`INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
  const seqs = new Map<string, number>();
  const insertBatch = db.transaction((inputs: readonly AuditEventInput[]) => {
    const at = new Date().toISOString();
    for (const input of inputs) {
      const chain = input.zone ?? 'global';
      const seq = (seqs.get(chain) ?? 0) + 1;
      seqs.set(chain, seq);
      insert.run(plainRow(input, chain, offset + seq, at));
    }
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i += BATCH) {
    const batch: AuditEventInput[] = [];
    for (let j = i; j < i + BATCH; j++) batch.push(gatewayEvent(offset + j));
    insertBatch(batch);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return EVENTS / seconds;
}

/** A hash's size without computing one: the baseline stores rows as large as the ledger's. */
const PLACEHOLDER_HASH = 'f'.repeat(64);

/** The row an event becomes, by column name, without hashing (the baseline's whole job per event). */
function plainRow(input: AuditEventInput, chain: string, seq: number, at: string): Record<string, unknown> {
  return {
    chain,
    seq,
    at: input.at ?? at,
    request_id: input.request_id,
    type: input.type,
    app: input.app ?? null,
    resource: input.resource ?? null,
    decision: input.decision,
    token_jti: input.token?.jti ?? null,
    body: JSON.stringify({
      category: input.category ?? null,
      detail: input.detail ?? {},
      http: input.http ?? null,
      id: newId('event'),
      policy: input.policy ?? null,
      prev_hash: PLACEHOLDER_HASH,
      reason: input.reason,
      scopes: input.scopes ?? [],
      token_exp: input.token?.exp ?? null,
    }),
    hash: PLACEHOLDER_HASH,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const benchmark: Benchmark = {
  name: 'ledger',
  description: `${EVENTS} Gateway events per round through createAuditLog + the ledger into a temporary SQLite store (batches of ${BATCH}), vs plain prepared inserts of the same rows; median of ${ROUNDS} interleaved rounds`,
  async run(): Promise<Figure[]> {
    const home = mkdtempSync(join(tmpdir(), 'caracal-bench-ledger-'));
    try {
      // Warm up both paths (JIT, page cache, WAL file) before measuring.
      const warm = await openStore({ home });
      await warm.appendAudit(Array.from({ length: 2_000 }, (_, i) => gatewayEvent(-1 - i)));
      await warm.close();
      plainRound(home, 10_000_000);

      const ledger: { perSecond: number; appendMicros: number }[] = [];
      const plain: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ledger.push(await ledgerRound(home, round * EVENTS));
        plain.push(plainRound(home, (round + 1) * EVENTS * 10));
      }

      const store = await openStore({ home });
      const started = process.hrtime.bigint();
      const results = await verifyStoredChains(store);
      const verifySeconds = Number(process.hrtime.bigint() - started) / 1e9;
      await store.close();
      const verified = results.reduce((sum, r) => sum + r.count, 0);
      if (!results.every((r) => r.ok)) throw new Error(`the benchmark's own chains do not verify: ${JSON.stringify(results)}`);

      return [
        { id: 'sqlite.plain_insert', value: median(plain), unit: 'events/s', target: null },
        {
          id: 'ledger.append_commit',
          value: median(ledger.map((r) => r.perSecond)),
          unit: 'events/s',
          target: '>= 50000 events/s',
          baseline_id: 'sqlite.plain_insert',
        },
        {
          id: 'ledger.append_call',
          value: round(median(ledger.map((r) => r.appendMicros)), 3),
          unit: 'µs/event',
          target: 'producer-side cost (informational)',
        },
        { id: 'ledger.verify', value: verified / verifySeconds, unit: 'events/s', target: 'reads and re-hashes (informational)' },
      ];
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
};

export default benchmark;
