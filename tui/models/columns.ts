import { esc, fit } from '../tags.js';

/**
 * Table columns that fit the terminal: each column has a natural width and a priority; when the
 * row does not fit, the least important columns are hidden first, then the flexible column
 * shrinks to its minimum. 80 columns show what matters; 200 show everything at full width.
 */
export interface Column<T> {
  readonly title: string;
  /** Width when there is room (a flexible column grows past it to fill the row). */
  readonly width: number;
  /** Takes the room left over (at most one column should); never below `min`. */
  readonly flex?: boolean;
  readonly min?: number;
  /** 0 is never hidden; higher numbers are hidden first. */
  readonly priority: number;
  /** The cell's plain text. */
  readonly text: (item: T) => string;
  /** Optional color (blessed tag name) for the cell. */
  readonly color?: (item: T) => string | undefined;
}

/** The width each column gets (0 = hidden) for a row of `width` columns, with one space between columns. */
export function layoutColumns(columns: readonly Pick<Column<unknown>, 'width' | 'flex' | 'min' | 'priority'>[], width: number): number[] {
  const shown = columns.map(() => true);
  const total = () => columns.reduce((sum, c, i) => sum + (shown[i] ? (c.flex === true ? (c.min ?? 8) : c.width) + 1 : 0), 0);
  const byPriority = columns.map((c, i) => ({ p: c.priority, i })).sort((a, b) => b.p - a.p || b.i - a.i);
  for (const { p, i } of byPriority) {
    if (total() <= width || p === 0) break;
    shown[i] = false;
  }
  const fixed = columns.reduce((sum, c, i) => sum + (shown[i] && c.flex !== true ? c.width + 1 : 0), 0);
  return columns.map((c, i) => {
    if (!shown[i]) return 0;
    if (c.flex !== true) return c.width;
    return Math.max(c.min ?? 8, width - fixed);
  });
}

/** The header line of a table laid out with `widths`. */
export function headerLine<T>(columns: readonly Column<T>[], widths: readonly number[]): string {
  return columns
    .map((c, i) => ((widths[i] ?? 0) > 0 ? fit(c.title.toUpperCase(), widths[i] ?? 0) : undefined))
    .filter((cell) => cell !== undefined)
    .join(' ');
}

/** One row as tagged text (cells escaped, cut and colored). */
export function rowLine<T>(columns: readonly Column<T>[], widths: readonly number[], item: T): string {
  const cells: string[] = [];
  columns.forEach((c, i) => {
    const w = widths[i] ?? 0;
    if (w === 0) return;
    const cell = esc(fit(c.text(item).replace(/\s+/g, ' '), w));
    const tint = c.color?.(item);
    cells.push(tint === undefined ? cell : `{${tint}-fg}${cell}{/${tint}-fg}`);
  });
  return cells.join(' ');
}
