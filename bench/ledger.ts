import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { verifyStoredChains } from '../core/audit/verify.js';
import { openStore } from '../core/store/open-store.js';
import { workerUrl } from '../core/worker-url.js';
import { AUDIT_WRITER_RESOURCE_LIMITS } from '../gateway/audit-channel.js';
import { percentile, round, type Benchmark, type Figure } from './harness.js';
import { BATCH, EVENTS, type RoundRequest, type RoundResult } from './support/ledger-rounds.js';

const ROUNDS = 3;
const median = (values: readonly number[]) => percentile(values, 50);

/** Runs one round on the rounds thread. */
async function runRound(worker: Worker, request: RoundRequest): Promise<RoundResult> {
  const answer = once(worker, 'message') as Promise<[{ result?: RoundResult; error?: string }]>;
  worker.postMessage(request);
  const [{ result, error }] = await answer;
  if (result === undefined) throw new Error(`ledger bench round failed: ${error ?? 'no result'}`);
  return result;
}

const benchmark: Benchmark = {
  name: 'ledger',
  description: `${EVENTS} Gateway events per round through createAuditLog + the ledger into a temporary SQLite store (batches of ${BATCH}, on a thread made as the Gateway's audit writer), vs plain prepared inserts of the same rows; median of ${ROUNDS} interleaved rounds`,
  async run(): Promise<Figure[]> {
    const home = mkdtempSync(join(tmpdir(), 'caracal-bench-ledger-'));
    const worker = new Worker(workerUrl(import.meta.url, './support/ledger-rounds.js'), { resourceLimits: AUDIT_WRITER_RESOURCE_LIMITS });
    try {
      // Warm up both paths (JIT, page cache, WAL file) before measuring.
      await runRound(worker, { kind: 'warm', home, offset: EVENTS * ROUNDS });
      const ledger: RoundResult[] = [];
      const plain: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ledger.push(await runRound(worker, { kind: 'ledger', home, offset: round * EVENTS }));
        plain.push((await runRound(worker, { kind: 'plain', home, offset: (round + 1) * EVENTS * 10 })).perSecond);
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
      await worker.terminate();
      rmSync(home, { recursive: true, force: true });
    }
  },
};

export default benchmark;
