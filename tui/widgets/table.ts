import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { KeyBinding } from '../keymap.js';
import { headerLine, layoutColumns, rowLine, type Column } from '../models/columns.js';
import { navigate, selectIndex, START, type ListCursor } from '../models/list.js';
import { esc } from '../tags.js';

/** A table that draws only its visible rows (models/list.ts), so its cost does not grow with the list. */
/** Rows by index, for lists that are not arrays in memory (the audit pager). */
export interface RowSource<T> {
  count(): number;
  /** Undefined while the row is being fetched (drawn as "loading…"). */
  row(index: number): T | undefined;
}

export interface Table<T> {
  readonly box: Widgets.BoxElement;
  setItems(items: readonly T[]): void;
  setSource(source: RowSource<T>): void;
  /** The first row shown and how many rows fit (what a paged source must have loaded). */
  window(): { from: number; height: number };
  selected(): T | undefined;
  selectedIndex(): number;
  /** Shown instead of rows when the list is empty (tagged text). */
  setEmpty(text: string): void;
  /** The navigation keys (↑ ↓ PgUp PgDn Home End), for the view's keymap. */
  navigation(): KeyBinding[];
  /** Called after the selection moved. */
  onMove(listener: (index: number) => void): void;
  draw(): void;
}

export interface TableOptions {
  readonly top?: number;
  readonly bottom?: number;
  readonly empty?: string;
}

/** Creates a table inside `parent`; call `draw()` after resizes (the view's `resize`). */
export function createTable<T>(parent: Widgets.Node, columns: readonly Column<T>[], options: TableOptions = {}): Table<T> {
  const box = blessed.box({ parent, top: options.top ?? 0, bottom: options.bottom ?? 0, left: 0, width: '100%', tags: true });
  let source: RowSource<T> = { count: () => 0, row: () => undefined };
  let cursor: ListCursor = START;
  let empty = options.empty ?? 'nothing here yet';
  const listeners: ((index: number) => void)[] = [];
  const height = () => Math.max(1, Number(box.height) - 1);

  function draw(): void {
    const width = Math.max(10, Number(box.width) - 2);
    const widths = layoutColumns(columns, width);
    const lines = [`{bold} ${esc(headerLine(columns, widths))}{/bold}`];
    const count = source.count();
    if (count === 0) lines.push(` {gray-fg}${empty}{/gray-fg}`);
    const end = Math.min(count, cursor.offset + height());
    for (let i = cursor.offset; i < end; i++) {
      const item = source.row(i);
      const line = item === undefined ? ' {gray-fg}loading…{/gray-fg}' : ` ${rowLine(columns, widths, item)}`;
      lines.push(i === cursor.selected ? `{inverse}${line}{/inverse}` : line);
    }
    box.setContent(lines.join('\n'));
  }

  function move(next: ListCursor): void {
    cursor = next;
    draw();
    for (const listener of listeners) listener(cursor.selected);
    box.screen.render();
  }

  const nav = (keys: string[], label: string, help: string): KeyBinding => ({
    keys,
    label,
    help,
    hint: false,
    run: () => {
      const next = navigate(cursor, keys[0] ?? '', source.count(), height());
      if (next !== undefined) move(next);
    },
  });

  return {
    box,
    setItems(next) {
      this.setSource({ count: () => next.length, row: (i) => next[i] });
    },
    setSource(next) {
      source = next;
      cursor = selectIndex(cursor, cursor.selected, source.count(), height());
      draw();
    },
    window: () => ({ from: cursor.offset, height: height() }),
    selected: () => source.row(cursor.selected),
    selectedIndex: () => cursor.selected,
    setEmpty(text) {
      empty = text;
      draw();
    },
    navigation: () => [
      nav(['up'], 'up', 'Select the previous row.'),
      nav(['down'], 'down', 'Select the next row.'),
      nav(['pageup'], 'page up', 'Up one page.'),
      nav(['pagedown'], 'page down', 'Down one page.'),
      nav(['home'], 'first', 'Select the first row.'),
      nav(['end'], 'last', 'Select the last row.'),
    ],
    onMove(listener) {
      listeners.push(listener);
    },
    draw,
  };
}
