// The plugin's own tests: plain node:test, no dependencies (`npm test` in this folder).
// Caracal's end-to-end test of this package is test/plugin-npm-example.test.ts in the Caracal repo.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import examplePlugin from './index.js';

const plugin = examplePlugin();
const scenario = plugin.scenarios[0];

test('the plan creates the provider before the resource that names it, with the key write-only', () => {
  const plan = scenario.plan({ upstream: 'http://127.0.0.1:4780/', credential: 'acme-key-123' });
  assert.deepEqual(plan.objects.map((o) => o.kind), ['zone', 'application', 'provider', 'resource', 'policy', 'policy_set']);
  assert.deepEqual(plan.objects[2].spec.config, { header: 'x-acme-key', allowed_hosts: ['127.0.0.1:4780'] });
  assert.deepEqual(plan.objects[2].spec.credentials, { api_key: 'acme-key-123' });
  assert.deepEqual(plan.objects[3].spec.provider, { $ref: 'provider' });
  assert.equal(plan.objects[3].spec.upstream_url, 'http://127.0.0.1:4780');
});

test('the plan is pure, and a re-run without a key keeps the stored one', () => {
  assert.deepEqual(scenario.plan({ credential: 'acme-key-123' }), scenario.plan({ credential: 'acme-key-123' }));
  assert.equal('credentials' in scenario.plan({}).objects[2].spec, false);
});

test('bad answers are refused with what to give, never echoing the key', () => {
  assert.throws(() => scenario.plan({ upstream: 'ftp://x' }), /must start with https:\/\//);
  assert.throws(() => scenario.plan({ credential: 'short KEY-SECRET' }), (error) => !error.message.includes('KEY-SECRET'));
});

test('the sink appends one line per event to its per-service file', async () => {
  const home = mkdtempSync(join(tmpdir(), 'example-sink-'));
  const sink = plugin.sinks[0].create({}, { home, name: 'summary', service: 'gateway' });
  await sink.write([{ at: '2026-01-01T00:00:00.000Z', type: 'gateway.request', decision: 'allow', http: { status: 200 }, request_id: 'req_1' }]);
  assert.equal(readFileSync(join(home, 'audit-summary-gateway.txt'), 'utf8'), '2026-01-01T00:00:00.000Z gateway.request allow 200 req_1\n');
  assert.throws(() => plugin.sinks[0].create({ pth: 'x' }, { home, name: 'summary' }), /unknown option pth/);
});
