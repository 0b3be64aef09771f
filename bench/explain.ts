import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEventInput, AuditQuery } from '../core/audit/event.js';
import { homePaths } from '../core/config/paths.js';
import { hashSecret } from '../core/crypto/secrets.js';
import { explainRequest } from '../core/control/routes/audit.js';
import { openStore } from '../core/store/open-store.js';
import type { Store } from '../core/store/store.js';
import { percentile, round, type Benchmark, type Figure } from './harness.js';

const EVENTS = Number(process.env.CARACAL_BENCH_EXPLAIN_EVENTS ?? 1_000_000);
const BATCH = 5000;
const SAMPLES = 300;
const SPAN_MS = 7 * 24 * 3_600_000;
const DECISIONS = ['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny', 'allow', 'deny', 'error'] as const;

interface Fixture {
  readonly zones: readonly string[];
  readonly apps: readonly string[];
  readonly resources: readonly string[];
}

/** Zones, apps and resources that exist, so explain's state lookups hit real rows. */
async function seed(store: Store): Promise<Fixture> {
  const zones: string[] = [];
  const apps: string[] = [];
  const resources: string[] = [];
  for (let z = 0; z < 4; z++) {
    const zone = await store.createZone({ name: `bench-${z}`, kind: 'evaluation' });
    zones.push(zone.id);
    for (let a = 0; a < 5; a++) apps.push((await store.createApp({ zoneId: zone.id, name: `agent-${a}`, secretHash: hashSecret('cs_bench', Buffer.alloc(32)) })).id);
    for (let r = 0; r < 5; r++) resources.push((await store.createResource({ zoneId: zone.id, id: `api-${r}`, scopes: ['read'], upstreamUrl: 'http://127.0.0.1:9' })).id);
  }
  return { zones, apps, resources };
}

/**
 * The n-th event of a week of traffic: per zone, every 50 Gateway calls reuse one token whose
 * `token.issued` event came first; a tenth are denied or failed; `at` spreads evenly over 7 days.
 */
function eventAt(n: number, f: Fixture, start: number): AuditEventInput {
  const z = n % f.zones.length;
  // A multiplicative hash spreads apps, resources and decisions independently of each other.
  const h = Math.imul(n, 2654435761) >>> 0;
  const zone = f.zones[z] as string;
  const app = f.apps[z * 5 + ((h >>> 8) % 5)] as string;
  const resource = f.resources[z * 5 + ((h >>> 16) % 5)] as string;
  const at = new Date(start + Math.floor((n / EVENTS) * SPAN_MS)).toISOString();
  const jti = `tok_${Math.floor(n / 200)}_${z}`;
  if (n % 200 < 4) {
    return { type: 'token.issued', zone, request_id: `req_mint_${n}`, at, app, resource, scopes: ['read'], decision: 'allow', reason: 'ok', policy: { set_id: 'pset_b', set_version: 1, versions: ['pol_b@1'], rules: ['starter'] }, token: { jti, exp: 1_900_000_000 }, detail: { kid: 'k1' } };
  }
  const decision = DECISIONS[(h >>> 24) % DECISIONS.length] ?? 'allow';
  const reason = decision === 'allow' ? 'ok' : decision === 'deny' ? 'method_not_allowed' : 'upstream_unreachable';
  return {
    type: 'gateway.request',
    zone,
    request_id: `req_${n}`,
    at,
    app,
    resource,
    scopes: ['read'],
    decision,
    reason,
    category: decision === 'allow' ? null : decision === 'deny' ? 'policy' : 'upstream',
    policy: { set_id: 'pset_b', set_version: 1, versions: ['pol_b@1'], rules: decision === 'deny' ? [] : ['starter'] },
    http: { method: decision === 'deny' ? 'POST' : 'GET', path: `/v1/items/${n}`, status: decision === 'allow' ? 200 : decision === 'deny' ? 403 : 502, upstream_status: decision === 'allow' ? 200 : null, latency_ms: 1.2 },
    token: { jti, exp: 1_900_000_000 },
    detail:
      decision === 'deny'
        ? { diagnosis: { reason, summary: 'Denied', nearest: [{ rule: 'starter', policy: 'pol_b@1', effect: 'allow', sentence: 's', failed: [{ clause: 'method', expected: ['GET'], actual: 'POST' }] }], denyingRules: [] } }
        : {},
  };
}

async function fill(store: Store, f: Fixture): Promise<void> {
  const start = Date.now() - SPAN_MS;
  const began = Date.now();
  for (let i = 0; i < EVENTS; i += BATCH) {
    const batch: AuditEventInput[] = [];
    for (let n = i; n < Math.min(EVENTS, i + BATCH); n++) batch.push(eventAt(n, f, start));
    await store.appendAudit(batch);
    if ((i / BATCH) % 40 === 0) process.stdout.write(`  ledger: ${i + batch.length} / ${EVENTS} events (${round((Date.now() - began) / 1000, 1)} s)\n`);
  }
}

async function timed(samples: number, call: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    await call(i);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

const benchmark: Benchmark = {
  name: 'explain',
  description: `caracal explain (events by request ID + token issuance by jti + current state) and audit list of 50 rows with filters, over a ledger of ${EVENTS.toLocaleString('en')} events spread over 7 days; baseline: a primary-key row lookup`,
  async run(): Promise<Figure[]> {
    const home = mkdtempSync(join(tmpdir(), 'caracal-bench-explain-'));
    const store = await openStore({ home });
    try {
      const fixture = await seed(store);
      await fill(store, fixture);
      const pick = (i: number) => Math.floor(((i * 7919) % SAMPLES) * (EVENTS / SAMPLES)) + 7;
      const gatewayId = (i: number) => {
        const n = pick(i);
        return n % 200 < 4 ? `req_${n + 4}` : `req_${n}`;
      };
      const ctx = { store };
      // Warm up the page cache and the prepared statements, as a running control plane would be.
      await timed(20, (i) => explainRequest(ctx, gatewayId(i + 1000)));
      const explain = await timed(SAMPLES, (i) => explainRequest(ctx, gatewayId(i)));

      const zone = fixture.zones[1] as string;
      const now = Date.now();
      const ago = (ms: number) => new Date(now - ms).toISOString();
      const filters: readonly [string, AuditQuery][] = [
        ['zone+decision=deny', { zone, decision: 'deny' }],
        ['type+app+since=24h', { type: 'gateway.request', app: fixture.apps[7] as string, since: ago(86_400_000) }],
        ['resource+decision=error', { resource: fixture.resources[3] as string, decision: 'error' }],
        ['since=2h', { since: ago(7_200_000) }],
        ['zone+since=1h', { zone, since: ago(3_600_000) }],
        ['zone+since=7d+until=6d', { zone, since: ago(7 * 86_400_000), until: ago(6 * 86_400_000) }],
        ['no filter', {}],
      ];
      const listFigures: Figure[] = [];
      const allList: number[] = [];
      for (const [name, query] of filters) {
        await timed(5, () => store.queryAudit({ ...query, limit: 50 }));
        const samples = await timed(50, () => store.queryAudit({ ...query, limit: 50 }));
        const rows = (await store.queryAudit({ ...query, limit: 50 })).items.length;
        allList.push(...samples);
        listFigures.push({ id: `list 50 (${name}; ${rows} rows) p50`, value: round(percentile(samples, 50), 3), unit: 'ms', target: '< 20 ms', baseline_id: 'pk lookup p50' });
      }

      const db = new Database(homePaths(home).database, { readonly: true });
      const ids = db.prepare('SELECT n FROM audit_events WHERE n % 3331 = 0 LIMIT 300').pluck().all() as number[];
      const lookup = db.prepare('SELECT * FROM audit_events WHERE n = ?');
      const baseline = await timed(SAMPLES, (i) => lookup.get(ids[i % ids.length]));
      db.close();

      return [
        { id: 'pk lookup p50', value: round(percentile(baseline, 50), 4), unit: 'ms', target: null },
        { id: 'explain p50', value: round(percentile(explain, 50), 3), unit: 'ms', target: '< 20 ms', baseline_id: 'pk lookup p50' },
        { id: 'explain p95', value: round(percentile(explain, 95), 3), unit: 'ms', target: null },
        ...listFigures,
        { id: 'list 50 (all filters) p50', value: round(percentile(allList, 50), 3), unit: 'ms', target: '< 20 ms', baseline_id: 'pk lookup p50' },
        { id: 'list 50 (all filters) p95', value: round(percentile(allList, 95), 3), unit: 'ms', target: null },
      ];
    } finally {
      await store.close();
      rmSync(home, { recursive: true, force: true });
    }
  },
};

export default benchmark;
