import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../core/audit/audit-log.js';
import type { AuditEvent, AuditEventInput } from '../../core/audit/event.js';
import type { AuditSink } from '../../core/audit/sink.js';
import { verifyStoredChains } from '../../core/audit/verify.js';
import { openStore } from '../../core/store/open-store.js';
import type { Store } from '../../core/store/store.js';
import { ledgerSink } from './index.js';

const root = new URL('../../', import.meta.url);

function input(n: number, zone: string | null = 'zn_a'): AuditEventInput {
  return { type: 'gateway.request', zone, request_id: `req_${n}`, decision: 'allow', reason: 'ok', detail: { n } };
}

/** Every event of a chain, in seq order. */
async function readAll(store: Store, chain: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (let page = await store.readAuditChain(chain, 1, 500); page.length > 0; ) {
    events.push(...page);
    page = await store.readAuditChain(chain, (page.at(-1)?.seq ?? 0) + 1, 500);
  }
  return events;
}

describe('ledgerSink', () => {
  let home: string;
  let store: Store | undefined;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'caracal-ledger-'));
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(home, { recursive: true, force: true });
  });

  it('is the built-in recorder named ledger and stores events through appendAudit', async () => {
    store = await openStore({ home });
    const ledger = ledgerSink(store);
    expect(ledger.name).toBe('ledger');
    const stored = await ledger.record([input(1), input(2, null)]);
    expect(stored.map((e) => [e.zone, e.seq, e.request_id])).toEqual([
      ['zn_a', 1, 'req_1'],
      [null, 1, 'req_2'],
    ]);
    expect(await store.readAuditChain('zn_a')).toEqual([stored[0]]);
  });

  it('keeps one unbroken chain per zone across batches and across reopening the store', async () => {
    const copies: AuditEvent[] = [];
    const copy: AuditSink = { name: 'copy', write: (batch) => (copies.push(...batch), Promise.resolve()) };

    store = await openStore({ home });
    let log = createAuditLog({ recorder: ledgerSink(store), sinks: [copy], batchSize: 100 });
    for (let i = 0; i < 750; i++) log.append(input(i, i % 5 === 0 ? 'zn_b' : 'zn_a'));
    await log.close();
    await store.close();

    store = await openStore({ home });
    log = createAuditLog({ recorder: ledgerSink(store), sinks: [copy], batchSize: 100 });
    for (let i = 750; i < 1000; i++) log.append(input(i, i % 5 === 0 ? 'zn_b' : 'zn_a'));
    await log.close();

    const results = await verifyStoredChains(store);
    expect(results).toEqual([
      { chain: 'zn_a', ok: true, count: 800, head: { seq: 800, hash: expect.any(String) as string } },
      { chain: 'zn_b', ok: true, count: 200, head: { seq: 200, hash: expect.any(String) as string } },
    ]);
    const zoneA = await readAll(store, 'zn_a');
    expect(zoneA.map((e) => e.seq)).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    expect(zoneA.map((e) => e.detail.n)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 5 !== 0),
    );
    // The observers received exactly what the ledger stored: same IDs, same hashes.
    expect([...copies].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
      [...zoneA, ...(await readAll(store, 'zn_b'))].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
  });

  it('keeps one unbroken chain when two processes append to the same zone at once', async () => {
    // The built modules (the test suite builds dist/ before it starts), in two real processes.
    const script = `
      const { openStore } = await import(${JSON.stringify(new URL('dist/core/store/open-store.js', root).href)});
      const { createAuditLog } = await import(${JSON.stringify(new URL('dist/core/audit/audit-log.js', root).href)});
      const { ledgerSink } = await import(${JSON.stringify(new URL('dist/plugins/sink-ledger/index.js', root).href)});
      const store = await openStore({ home: process.argv[1] });
      const log = createAuditLog({ recorder: ledgerSink(store), batchSize: 20 });
      for (let i = 0; i < 300; i++) {
        log.append({ type: 'gateway.request', zone: 'zn_a', request_id: process.argv[2] + '_' + i, decision: 'allow', reason: 'ok' });
        if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
      }
      await log.close();
      console.log(JSON.stringify(log.stats()));
      await store.close();
    `;
    const run = promisify(execFile);
    const children = await Promise.all(
      ['one', 'two'].map((name) => run(process.execPath, ['--input-type=module', '-e', script, home, name])),
    );
    for (const child of children) expect(JSON.parse(child.stdout)).toMatchObject({ recorded: 300, dropped: 0 });

    store = await openStore({ home });
    expect(await verifyStoredChains(store)).toMatchObject([{ chain: 'zn_a', ok: true, count: 600, head: { seq: 600 } }]);
    const events = await readAll(store, 'zn_a');
    for (const name of ['one', 'two']) {
      const own = events.filter((e) => e.request_id.startsWith(`${name}_`)).map((e) => Number(e.request_id.slice(name.length + 1)));
      expect(own).toEqual(Array.from({ length: 300 }, (_, i) => i));
    }
  });
});
