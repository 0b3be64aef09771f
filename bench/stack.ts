import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Benchmark, Figure } from './harness.js';
import { BIN, freePort, tempHome } from './support/service.js';

const ROUNDS = 3;
const STATUS_RUNS = 10;

function timed(args: readonly string[]): number {
  const start = performance.now();
  execFileSync(process.execPath, [BIN, ...args], { stdio: 'ignore' });
  return performance.now() - start;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * `caracal up` until both services are ready (fresh home each round, then `down`), and
 * `caracal status` wall time, against a bare `node -e 0` start measured in the same run.
 */
const bench: Benchmark = {
  name: 'stack',
  description: `caracal up to ready (${ROUNDS} rounds) and caracal status (${STATUS_RUNS} runs)`,
  async run(): Promise<Figure[]> {
    const node = median(Array.from({ length: STATUS_RUNS }, () => {
      const start = performance.now();
      execFileSync(process.execPath, ['-e', '0']);
      return performance.now() - start;
    }));
    const ups: number[] = [];
    const statuses: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { home, remove } = tempHome('stack');
      const ports = ['--control-port', String(await freePort()), '--gateway-port', String(await freePort())];
      try {
        ups.push(timed(['--home', home, 'up', ...ports]));
        if (round === 0) for (let i = 0; i < STATUS_RUNS; i++) statuses.push(timed(['--home', home, 'status', '--ready']));
      } finally {
        execFileSync(process.execPath, [BIN, '--home', home, 'down'], { stdio: 'ignore' });
        remove();
      }
    }
    return [
      { id: 'node.start', value: node, unit: 'ms', target: null },
      { id: 'up.to_ready', value: median(ups), unit: 'ms', target: '< 2000 ms', baseline_id: 'node.start' },
      { id: 'status.wall', value: median(statuses), unit: 'ms', target: '< 300 ms', baseline_id: 'node.start' },
    ];
  },
};
export default bench;
