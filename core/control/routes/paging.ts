import { z } from 'zod';
import type { ListOptions, Page } from '../../domain/types.js';
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
