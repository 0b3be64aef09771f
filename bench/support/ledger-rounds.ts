/**
 * bench/ledger.ts's rounds, on a worker thread made as the Gateway's audit writer thread is (the
 * same resource limits): message in `{kind, home, offset}`, message out the round's result.
 */
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createAuditLog } from '../../core/audit/audit-log.js';
import type { AuditEventInput } from '../../core/audit/event.js';
import { isoNow } from '../../core/audit/stamp.js';
import { homePaths } from '../../core/config/paths.js';
import { newId } from '../../core/domain/ids.js';
import { openStore } from '../../core/store/open-store.js';
import { PAGE_SIZE } from '../../core/store/sqlite/open-database.js';
import { WalCheckpointer } from '../../core/store/sqlite/wal-checkpointer.js';
import { AUDIT_WRITER_BATCH } from '../../gateway/audit-channel.js';
import { ledgerSink } from '../../plugins/sink-ledger/index.js';

export const EVENTS = 100_000;
/** The Gateway audit writer's group commit: the ledger's high-volume writer. */
export const BATCH = AUDIT_WRITER_BATCH;

export type RoundRequest = { readonly kind: 'ledger' | 'plain' | 'warm'; readonly home: string; readonly offset: number };
export type RoundResult = { readonly perSecond: number; readonly appendMicros: number };

const ZONES = ['zn_bench_a', 'zn_bench_b'];
/** Workloads calling at once, each reusing its token (a token lives minutes, for thousands of calls). */
const TOKENS = Array.from({ length: 50 }, () => newId('token'));

/**
 * The event the Gateway records for an allowed call (gateway/pipeline.ts finish): stamped when
 * made, IDs made as the Gateway makes them, tokens reused across calls, an empty detail.
 */
function gatewayEvent(n: number): AuditEventInput {
  return {
    type: 'gateway.request',
    at: isoNow(),
    zone: ZONES[n % ZONES.length] ?? null,
    request_id: newId('request'),
    app: 'app_01JBENCH0000000000000000AP',
    resource: 'resource://billing-api',
    scopes: ['billing:read'],
    decision: 'allow',
    reason: 'ok',
    category: null,
    policy: { set_id: 'pset_01JBENCH000000000000000PS', set_version: 3, versions: ['pol_01JBENCH0000000000000000PO@2'], rules: ['allow-read'] },
    http: { method: 'GET', path: `/v1/invoices/${n}`, status: 200, upstream_status: 200, latency_ms: 1.7 },
    token: { jti: TOKENS[n % TOKENS.length] ?? '', exp: 1_900_000_000 },
    detail: {},
  };
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Appends through the audit log into the ledger as the audit writer does (a batch's worth of
 * events, then back to the event loop), until everything is committed. Returns events/s and the
 * producer-side cost of one append in µs.
 */
async function ledgerRound(home: string, offset: number): Promise<RoundResult> {
  const store = await openStore({
    home,
    backgroundCheckpoints: {
      onError: (error) => {
        throw error;
      },
    },
  });
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
 * The same rows, plainly inserted (no chain head lookup, no canonical JSON, no SHA-256), a batch
 * per transaction, into a scratch database next to the store's (the store refuses foreign tables
 * in its own file) with the ledger's page size, table definition, indexes, pragmas and checkpointing.
 */
async function plainRound(home: string, offset: number): Promise<RoundResult> {
  const source = new Database(homePaths(home).database, { readonly: true });
  const schema = source
    .prepare("SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND tbl_name = 'audit_events' AND sql IS NOT NULL ORDER BY type DESC")
    .pluck()
    .all() as string[];
  source.close();
  const file = join(home, 'scratch.db');
  const db = new Database(file);
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const checkpointer = WalCheckpointer.start(db, file, (error) => {
    throw error;
  });
  for (const sql of schema) db.exec(sql.replace(/^CREATE (UNIQUE )?(TABLE|INDEX) /, 'CREATE $1$2 IF NOT EXISTS '));
  const columns = (db.pragma('table_info(audit_events)') as { name: string }[]).map((c) => c.name).filter((name) => name !== 'n');
  const insert = db.prepare(`INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
  const seqs = new Map<string, number>();
  const insertBatch = db.transaction((inputs: readonly AuditEventInput[]) => {
    for (const input of inputs) {
      const chain = input.zone ?? 'global';
      const seq = (seqs.get(chain) ?? 0) + 1;
      seqs.set(chain, seq);
      insert.run(plainRow(input, chain, offset + seq));
    }
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i += BATCH) {
    const batch: AuditEventInput[] = [];
    for (let j = i; j < i + BATCH; j++) batch.push(gatewayEvent(offset + j));
    insertBatch(batch);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await checkpointer.stop();
  db.close();
  return { perSecond: EVENTS / seconds, appendMicros: 0 };
}

/** A hash's size without computing one: the baseline stores rows as large as the ledger's. */
const PLACEHOLDER_HASH = 'f'.repeat(64);

/** The row an event becomes, by column name, without hashing (the baseline's whole job per event). */
function plainRow(input: AuditEventInput, chain: string, seq: number): Record<string, unknown> {
  return {
    chain,
    seq,
    at: input.at,
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

/** Fills the ledger and the page cache before measuring: 2,000 events appended directly. */
async function warm(home: string, offset: number): Promise<RoundResult> {
  const store = await openStore({ home });
  await store.appendAudit(Array.from({ length: 2_000 }, (_, i) => gatewayEvent(offset + i)));
  await store.close();
  return plainRound(home, offset);
}

const rounds = { ledger: ledgerRound, plain: plainRound, warm };

parentPort?.on('message', (request: RoundRequest) => {
  rounds[request.kind](request.home, request.offset).then(
    (result) => parentPort?.postMessage({ result }),
    (error: unknown) => parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
});
