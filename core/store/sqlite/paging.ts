import { CaracalError } from '../../errors.js';

/** Page size when none is asked for. */
export const DEFAULT_LIMIT = 50;
/** The largest page a list returns; larger requests are served this many. */
export const MAX_LIMIT = 500;

/** The page size to use: the default, or the requested size capped at MAX_LIMIT. */
export function pageLimit(limit: number | undefined, max: number = MAX_LIMIT): number {
  if (limit === undefined) return Math.min(DEFAULT_LIMIT, max);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new CaracalError('CRC_VALIDATION', `A page limit must be a whole number of at least 1, got ${limit}.`);
  }
  return Math.min(limit, max);
}

/** An opaque cursor for the row after which the next page starts (base64url of its key). */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(`c1:${lastKey}`, 'utf8').toString('base64url');
}

/** The key a cursor from `encodeCursor` stands for; a foreign or damaged cursor is a bad request. */
export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('c1:') || text.length === 3 || encodeCursor(text.slice(3)) !== cursor) throw badCursor();
  return text.slice(3);
}

/** The error for a cursor this store did not issue. */
export function badCursor(): CaracalError {
  return new CaracalError('CRC_BAD_REQUEST', 'The page cursor is not one this store issued.', {
    hint: 'Pass back the nextCursor of the previous page unchanged, or omit it to start from the first page.',
  });
}

/** Cuts `rows` (fetched with limit+1) into a page and the cursor of the next one. */
export function toPage<R, T>(rows: readonly R[], limit: number, key: (row: R) => string, map: (row: R) => T) {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}
