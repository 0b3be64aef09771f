import type { SinkStatus } from './service-audit.js';

/** The failing sinks in one line for `/readyz` and `caracal status` (null when all are fine). */
export function failingSinks(statuses: readonly SinkStatus[]): string | null {
  const failing = statuses.filter((s) => !s.ok);
  if (failing.length === 0) return null;
  return failing.map((s) => `audit sink ${s.name} failing: ${s.detail}`).join('; ');
}
