import { fileURLToPath } from 'node:url';
import { report, type Benchmark } from './harness.js';

/**
 * `npm run bench [-- name…]`: runs the named benchmarks (all when none is named), prints a table
 * each and writes bench/results/<name>.json. Each benchmark starts and stops what it needs.
 */
const registry: Record<string, () => Promise<{ default: Benchmark }>> = {
  policy: () => import('./policy.js'),
  ledger: () => import('./ledger.js'),
  gateway: () => import('./gateway.js'),
  mint: () => import('./mint.js'),
  stack: () => import('./stack.js'),
  explain: () => import('./explain.js'),
  run: () => import('./run-overhead.js'),
  console: () => import('./console.js'),
};

const resultsDir = fileURLToPath(new URL('../../bench/results', import.meta.url));
const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in registry));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(registry).join(', ')}`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(registry)) {
  const load = registry[name];
  if (!load) continue;
  const bench = (await load()).default;
  console.log(`running ${bench.name}: ${bench.description}`);
  report(bench.name, await bench.run(), resultsDir);
}
