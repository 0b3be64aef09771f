/**
 * Selection and scrolling of a list, pure: the table widget draws only the rows between `offset`
 * and `offset + height`, so a list of 100,000 rows costs what a screenful costs.
 */

/** Where the selection and the first visible row are. */
export interface ListCursor {
  readonly selected: number;
  readonly offset: number;
}

export const START: ListCursor = { selected: 0, offset: 0 };

/** Moves the selection to `index` (clamped to the list) and scrolls so it stays visible. */
export function selectIndex(cursor: ListCursor, index: number, count: number, height: number): ListCursor {
  if (count <= 0) return START;
  const selected = Math.max(0, Math.min(count - 1, index));
  const rows = Math.max(1, height);
  let offset = Math.min(cursor.offset, Math.max(0, count - rows));
  if (selected < offset) offset = selected;
  else if (selected >= offset + rows) offset = selected - rows + 1;
  return { selected, offset };
}

/** The cursor after a navigation key (`up`, `down`, `pageup`, `pagedown`, `home`, `end`), or undefined for other keys. */
export function navigate(cursor: ListCursor, key: string, count: number, height: number): ListCursor | undefined {
  const page = Math.max(1, height - 1);
  const moves: Readonly<Record<string, number>> = {
    up: cursor.selected - 1,
    k: cursor.selected - 1,
    down: cursor.selected + 1,
    j: cursor.selected + 1,
    pageup: cursor.selected - page,
    pagedown: cursor.selected + page,
    home: 0,
    end: count - 1,
  };
  const target = moves[key];
  return target === undefined ? undefined : selectIndex(cursor, target, count, height);
}

/**
 * Keeps the items whose text contains every word of the filter (case-insensitive). An empty
 * filter keeps everything.
 */
export function filterItems<T>(items: readonly T[], filter: string, text: (item: T) => string): readonly T[] {
  const words = filter.toLowerCase().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return items;
  return items.filter((item) => {
    const haystack = text(item).toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}
