import { z } from 'zod';
import type { ListOptions, Page } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { parseInput } from '../http-errors.js';

const listSchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).optional(),
    cursor: z.string().max(200).optional(),
  })
  .passthrough();

/** Reads `limit` and `cursor` from a list request's query string. */
export function listQuery(query: unknown): ListOptions {
  const q = parseInput(listSchema, query ?? {}, 'list query');
  return { ...(q.limit === undefined ? {} : { limit: q.limit }), ...(q.cursor === undefined ? {} : { cursor: q.cursor }) };
}

/** The API shape of a page: `{items, next_cursor}`. */
export function pageBody<T, V>(page: Page<T>, view: (item: T) => V): { items: V[]; next_cursor: string | null } {
  return { items: page.items.map(view), next_cursor: page.nextCursor };
}

const OFFSET_CURSOR = /^o[1-9][0-9]{0,8}$/;

/** Pages an in-memory list (versions, revocations) with the same `limit`/`cursor` contract as store lists. */
export function pageArray<T>(items: readonly T[], options: ListOptions): Page<T> {
  let start = 0;
  if (options.cursor !== undefined) {
    const text = Buffer.from(options.cursor, 'base64url').toString('utf8');
    if (!OFFSET_CURSOR.test(text) || Buffer.from(text, 'utf8').toString('base64url') !== options.cursor) {
      throw new CaracalError('CRC_BAD_REQUEST', 'the page cursor is not one this list issued', {
        hint: 'pass back the next_cursor of the previous page unchanged, or omit it to start from the first page',
      });
    }
    start = Number(text.slice(1));
  }
  const limit = options.limit ?? 50;
  const end = start + limit;
  return {
    items: items.slice(start, end),
    nextCursor: end < items.length ? Buffer.from(`o${end}`, 'utf8').toString('base64url') : null,
  };
}

const flag = z.enum(['true', 'false'], { error: 'use true or false' }).transform((v) => v === 'true');

/** Reads an optional boolean filter (`?disabled=true`) from a list request's query string. */
export function booleanQuery(query: unknown, name: string): boolean | undefined {
  const schema = z.object({ [name]: flag.optional() }).passthrough();
  const parsed = parseInput(schema, query ?? {}, 'list query') as Record<string, boolean | undefined>;
  return parsed[name];
}
