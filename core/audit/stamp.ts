let stampMs = Number.NaN;
let stamp = '';

/**
 * The current time as an event's `at` (ISO-8601, UTC, milliseconds), formatted once per
 * millisecond: events come in bursts.
 */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== stampMs) {
    stampMs = ms;
    stamp = new Date(ms).toISOString();
  }
  return stamp;
}
