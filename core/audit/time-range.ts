import { CaracalError } from '../errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const RELATIVE = /^([1-9][0-9]{0,6})(s|m|h|d|w)$/;

/**
 * Reads a point in time as the audit filters take it (DESIGN.md §7): a relative age such as
 * `30s`, `15m`, `2h`, `7d` or `2w` (that long before `now`), or an ISO-8601 timestamp. Returns it
 * in the store's one form (`toISOString`, UTC, milliseconds), so it compares as a string.
 */
export function parseTimePoint(value: string, flag: string, now: number = Date.now()): string {
  const text = value.trim();
  const relative = RELATIVE.exec(text);
  if (relative) {
    const amount = Number(relative[1]);
    const unit = relative[2] as keyof typeof UNIT_MS;
    return new Date(now - amount * UNIT_MS[unit]).toISOString();
  }
  // Only full dates are read as absolute times: Date.parse accepts too much ("1", "May").
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = Date.parse(text);
    if (!Number.isNaN(time)) return new Date(time).toISOString();
  }
  throw new CaracalError('CRC_USAGE', `${flag} must be a relative age like 15m, 2h or 7d, or an ISO-8601 time like 2025-01-31T12:00:00Z; got ${JSON.stringify(text.slice(0, 40))}`, {
    hint: `for example ${flag} 15m (the last 15 minutes) or ${flag} 2025-01-31T12:00:00Z`,
  });
}

/** A `[since, until)` window with either end optional; refuses an empty or inverted one. */
export function parseTimeRange(
  range: { readonly since?: string | undefined; readonly until?: string | undefined },
  now: number = Date.now(),
): { since?: string; until?: string } {
  const out: { since?: string; until?: string } = {};
  if (range.since !== undefined && range.since !== '') out.since = parseTimePoint(range.since, '--since', now);
  if (range.until !== undefined && range.until !== '') out.until = parseTimePoint(range.until, '--until', now);
  if (out.since !== undefined && out.until !== undefined && out.since >= out.until) {
    throw new CaracalError('CRC_USAGE', `--since (${out.since}) must be before --until (${out.until})`);
  }
  return out;
}
