import type { ListOptions, Page } from '../domain/types.js';

/** Reads every page of a paginated store list into one array (for snapshots and exports). */
export async function allPages<T>(list: (options: ListOptions) => Promise<Page<T>>, pageSize = 500): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await list(cursor === null ? { limit: pageSize } : { limit: pageSize, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}
