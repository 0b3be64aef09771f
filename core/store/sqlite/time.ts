import { CaracalError } from '../../errors.js';

/**
 * A timestamp in the one form the store keeps (`toISOString`, UTC, milliseconds), so that
 * timestamps compare correctly as strings in SQL.
 */
export function isoTime(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new CaracalError('CRC_VALIDATION', `${field} must be an ISO-8601 timestamp, got ${JSON.stringify(value.slice(0, 40))}.`);
  }
  return new Date(time).toISOString();
}
