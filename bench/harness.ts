import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

/** One measured figure of a benchmark (DESIGN.md §13). */
export interface Figure {
  readonly id: string;
  readonly value: number;
  readonly unit: string;
  /** The target, in words (e.g. ">= 50000 events/s"), or null for a baseline. */
  readonly target: string | null;
  /** The figure this one is compared with, measured in the same run. */
  readonly baseline_id?: string;
  readonly ratio?: number;
}

/** A benchmark: a name and a function that measures and returns its figures. */
export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(): Promise<Figure[]>;
}

/** Adds `ratio` to figures that name a baseline, from the baseline's value in the same run. */
export function withRatios(figures: readonly Figure[]): Figure[] {
  const byId = new Map(figures.map((f) => [f.id, f]));
  return figures.map((f) => {
    const base = f.baseline_id === undefined ? undefined : byId.get(f.baseline_id);
    return base && base.value !== 0 ? { ...f, ratio: round(f.value / base.value, 3) } : f;
  });
}

/** Rounds to a number of decimals (for printing and results files). */
export function round(value: number, decimals = 2): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Percentile of an unsorted sample (nearest-rank). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Prints a benchmark's figures as a table and writes bench/results/<name>.json. */
export function report(name: string, figures: readonly Figure[], resultsDir: string): void {
  const rows = withRatios(figures);
  const header = ['figure', 'value', 'unit', 'ratio', 'vs', 'target'];
  const table = rows.map((f) => [
    f.id,
    String(round(f.value)),
    f.unit,
    f.ratio === undefined ? '' : `${f.ratio}x`,
    f.baseline_id ?? '',
    f.target ?? '(baseline)',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${name}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table) console.log(line(r));
  mkdirSync(resultsDir, { recursive: true });
  const machine = { cpus: cpus().length, node: process.version };
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify({ name, machine, figures: rows }, null, 2)}\n`);
}
