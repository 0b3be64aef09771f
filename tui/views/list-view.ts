import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { ApiPage, PageQuery } from '../../core/control/admin-client.js';
import type { KeyBinding } from '../keymap.js';
import type { Column } from '../models/columns.js';
import { filterItems } from '../models/list.js';
import type { AppContext, View, ViewFactory } from '../view.js';
import { createTable, type Table } from '../widgets/table.js';

/** What a list screen (zones, apps, resources, providers, plugins) is made of. */
export interface ListViewSpec<T> {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly aliases?: readonly string[];
  readonly goKey?: string;
  readonly needsZone?: boolean;
  readonly columns: readonly Column<T>[];
  /** Loads the whole list (admin lists are small; the audit list pages instead). */
  load(ctx: AppContext): Promise<readonly T[]>;
  /** The text `/` searches in. */
  searchText(item: T): string;
  /** What an empty list says (tagged), e.g. how to create the first one. */
  empty(ctx: AppContext): string;
  /** The view's own keys; `table.selected()` is the row they act on, `reload()` reloads the list. */
  actions?(ctx: AppContext, table: Table<T>, reload: () => void): KeyBinding[];
  /** Per-instance state and widgets beyond the table (e.g. the one-time secret panel of Apps); made at mount. */
  extras?(ctx: AppContext, table: Table<T>, reload: () => void, body: Widgets.BoxElement): ListExtras;
  /** Details of the selected row, drawn under the table when the terminal has room (tagged). */
  detail?(item: T): string;
}

/** What `extras` adds to one mounted list view. */
export interface ListExtras {
  keys(): KeyBinding[];
  /** Called when the view is left or the zone changes: drop what must not outlive it. */
  reset(): void;
}

/** How many rows the detail pane takes, when the terminal is tall enough to spare them. */
const DETAIL_ROWS = 6;

/** Makes a ViewFactory from a list spec: table, `/` filter, loading through ctx.task, a detail pane. */
export function listView<T>(spec: ListViewSpec<T>): ViewFactory {
  return {
    id: spec.id,
    title: spec.title,
    summary: spec.summary,
    ...(spec.aliases === undefined ? {} : { aliases: spec.aliases }),
    ...(spec.goKey === undefined ? {} : { goKey: spec.goKey }),
    ...(spec.needsZone === undefined ? {} : { needsZone: spec.needsZone }),
    create(ctx): View {
      let all: readonly T[] = [];
      let filter = '';
      let table: Table<T> | undefined;
      let detail: Widgets.BoxElement | undefined;
      let body: Widgets.BoxElement | undefined;
      let generation = 0;
      let extras: ListExtras | undefined;

      const showDetail = () => {
        if (detail === undefined || table === undefined) return;
        const item = table.selected();
        detail.setContent(item === undefined || spec.detail === undefined ? '' : spec.detail(item));
      };
      const layout = () => {
        if (body === undefined || table === undefined || detail === undefined) return;
        const roomy = spec.detail !== undefined && Number(body.height) >= 18;
        table.box.bottom = roomy ? DETAIL_ROWS : 0;
        if (roomy) detail.show();
        else detail.hide();
        table.draw();
        showDetail();
      };
      const apply = () => {
        if (table === undefined) return;
        table.setItems(filterItems(all, filter, (item) => spec.searchText(item)));
        table.setEmpty(all.length === 0 ? spec.empty(ctx) : `no row matches "${filter}" (/ to change the filter)`);
        showDetail();
        ctx.render();
      };
      const reload = () => {
        const mine = ++generation;
        void ctx.task(`loading ${spec.title.toLowerCase()}`, () => spec.load(ctx)).then((items) => {
          if (items === undefined || mine !== generation) return;
          all = items;
          apply();
        });
      };

      return {
        title: () => (filter === '' ? spec.title : `${spec.title} /${filter}`),
        keys: () => (table === undefined ? [] : [...(extras?.keys() ?? []), ...(spec.actions?.(ctx, table, reload) ?? []), ...table.navigation()]),
        mount(box) {
          body = box;
          table = createTable<T>(box, spec.columns, { empty: 'loading…' });
          detail = blessed.box({ parent: box, bottom: 0, height: DETAIL_ROWS, left: 0, width: '100%', tags: true, border: { type: 'line' }, style: { border: { fg: 'gray' } } });
          table.onMove(showDetail);
          extras = spec.extras?.(ctx, table, reload, box);
          layout();
          reload();
        },
        unmount() {
          generation++;
          extras?.reset();
          table = undefined;
        },
        refresh: reload,
        resize: layout,
        filter(text) {
          filter = text.trim();
          apply();
        },
        filterText: () => filter,
        zoneChanged() {
          extras?.reset();
          filter = '';
          reload();
        },
      };
    },
  };
}

/** Every item of a paged admin list (follows next_cursor; lists here are small, at most `max` items). */
export async function allPages<T>(fetch: (query: PageQuery) => Promise<ApiPage<T>>, max = 5000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch({ limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined && items.length < max);
  return items;
}

/** The current zone's ID; list specs with `needsZone` are only created when there is one. */
export function zoneId(ctx: AppContext): string {
  const zone = ctx.zone();
  if (zone === undefined) throw new Error('pick a zone first (z)');
  return zone.id;
}
