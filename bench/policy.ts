import { compilePolicySet, type PolicyMatcher } from '../core/policy/compile.js';
import type { PolicyRule, RequestQuery } from '../core/policy/types.js';
import { percentile, round, type Benchmark, type Figure } from './harness.js';

/**
 * Policy decisions per second and per-decision latency for sets of 10, 1,000 and 10,000 rules
 * (DESIGN.md §6: a decision costs microseconds and does not grow with unrelated rules). The
 * baseline is a direct two-level Map lookup over the same (app, resource) keys, in the same run.
 * Latency is timed one decision at a time with process.hrtime.bigint(), so it includes the
 * timer's own cost (tens of nanoseconds).
 */

const SIZES = [10, 1_000, 10_000];
const APPS = 100;
const QUERIES = 64;
const THROUGHPUT_ROUNDS = 2_000_000;
const LATENCY_SAMPLES = 200_000;

const appId = (i: number) => `app_01JBENCH${String(i).padStart(16, '0')}`;
const resourceId = (i: number) => `resource://svc-${i}`;

/** N rules: mostly one (app, resource) pair each, with every 50th a deny and every 100th a wildcard. */
function ruleSet(n: number): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (let i = 0; i < n; i++) {
    const app = appId(i % APPS);
    const resource = resourceId(Math.floor(i / APPS));
    if (i % 100 === 99) {
      rules.push({ id: `r${i}`, effect: 'allow', apps: ['*'], resources: [resource], scopes: ['health'], methods: ['GET'], paths: ['/healthz'] });
    } else if (i % 50 === 49) {
      rules.push({ id: `r${i}`, effect: 'deny', apps: [app], resources: [resource], scopes: ['*'], paths: ['/v1/admin/**'] });
    } else {
      rules.push({
        id: `r${i}`,
        effect: 'allow',
        apps: [app],
        resources: [resource],
        scopes: ['read', 'write'],
        methods: ['GET', 'HEAD', 'POST'],
        paths: ['/v1/items/*', '/v1/orders/**'],
      });
    }
  }
  return rules;
}

/** Requests that each match an allow rule of the set (spread over the set), or miss on method. */
function queries(n: number, method: string): RequestQuery[] {
  const out: RequestQuery[] = [];
  for (let q = 0; q < QUERIES; q++) {
    let i = Math.floor(((q + 0.5) * n) / QUERIES);
    while (i % 50 === 49 || i % 100 === 99) i = (i + 1) % n;
    out.push({ app: appId(i % APPS), resource: resourceId(Math.floor(i / APPS)), scopes: ['read'], method, path: `/v1/items/${1000 + q}` });
  }
  return out;
}

let sink = 0;

function throughput(rounds: number, step: (i: number) => number): number {
  for (let i = 0; i < 200_000; i++) sink += step(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) sink += step(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return rounds / seconds;
}

function latencies(step: (i: number) => number): number[] {
  const samples = new Array<number>(LATENCY_SAMPLES);
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t0 = process.hrtime.bigint();
    sink += step(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return samples;
}

interface Prepared {
  readonly n: number;
  readonly compileMs: number;
  readonly allow: (i: number) => number;
  readonly deny: (i: number) => number;
  readonly mint: (i: number) => number;
}

function prepareSet(n: number): Prepared {
  const rules = ruleSet(n);
  const t0 = process.hrtime.bigint();
  const matcher: PolicyMatcher = compilePolicySet({ policySetId: 'pset_bench', version: 1, policies: [{ policyId: 'pol_bench', version: 1, rules }] });
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const allow = queries(n, 'GET');
  const deny = queries(n, 'DELETE');
  if (matcher.decideRequest(allow[0]!).effect !== 'allow' || matcher.decideRequest(deny[0]!).reason !== 'method_not_allowed') {
    throw new Error('benchmark queries do not decide as intended');
  }
  return {
    n,
    compileMs,
    allow: (i) => matcher.decideRequest(allow[i & (QUERIES - 1)]!).rules.length,
    deny: (i) => matcher.decideRequest(deny[i & (QUERIES - 1)]!).rules.length,
    mint: (i) => {
      const q = allow[i & (QUERIES - 1)]!;
      return matcher.decideMint({ app: q.app, resource: q.resource, scopes: q.scopes }).scopes.granted.length;
    },
  };
}

function measureSet(p: Prepared): Figure[] {
  const n = p.n;
  const perSecond = throughput(THROUGHPUT_ROUNDS, p.allow);
  const samples = latencies(p.allow);
  return [
    { id: `decide.allow.rules-${n}`, value: round(perSecond, 0), unit: 'decisions/s', target: '>= 1000000 decisions/s', baseline_id: 'baseline.map-lookup' },
    { id: `decide.allow.p50.rules-${n}`, value: round(percentile(samples, 50), 3), unit: 'µs', target: '< 10 µs' },
    { id: `decide.allow.p99.rules-${n}`, value: round(percentile(samples, 99), 3), unit: 'µs', target: '< 10 µs' },
    { id: `decide.deny.rules-${n}`, value: round(throughput(THROUGHPUT_ROUNDS / 4, p.deny), 0), unit: 'decisions/s', target: '>= 100000 decisions/s', baseline_id: 'baseline.map-lookup' },
    { id: `decide.mint.rules-${n}`, value: round(throughput(THROUGHPUT_ROUNDS / 4, p.mint), 0), unit: 'decisions/s', target: '>= 100000 decisions/s', baseline_id: 'baseline.map-lookup' },
    { id: `compile.rules-${n}`, value: round(p.compileMs, 2), unit: 'ms', target: '< 1000 ms' },
  ];
}

/** The floor: a direct nested-Map lookup of the rule for (app, resource). */
function prepareBaseline(): (i: number) => number {
  const table = new Map<string, Map<string, PolicyRule>>();
  for (const rule of ruleSet(10_000)) {
    const app = rule.apps[0]!;
    let inner = table.get(app);
    if (inner === undefined) table.set(app, (inner = new Map<string, PolicyRule>()));
    inner.set(rule.resources[0]!, rule);
  }
  const keys = queries(10_000, 'GET');
  return (i) => {
    const q = keys[i & (QUERIES - 1)]!;
    return table.get(q.app)?.get(q.resource)?.id.length ?? 0;
  };
}

const bench: Benchmark = {
  name: 'policy',
  description: 'policy decisions per second and p99 latency for 10, 1,000 and 10,000 rules, against a direct Map lookup',
  run() {
    const baseline = prepareBaseline();
    const sets = SIZES.map(prepareSet);
    // Warm every step through the same loops first, so no measurement (the baseline included)
    // enjoys a call site that has only seen its own function.
    for (const step of [baseline, ...sets.flatMap((p) => [p.allow, p.deny, p.mint])]) throughput(50_000, step);
    const figures: Figure[] = [{ id: 'baseline.map-lookup', value: round(throughput(THROUGHPUT_ROUNDS, baseline), 0), unit: 'lookups/s', target: null }];
    for (const p of sets) figures.push(...measureSet(p));
    if (sink === -1) console.log(sink);
    return Promise.resolve(figures);
  },
};

export default bench;
