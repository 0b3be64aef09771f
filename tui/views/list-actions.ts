import type { KeyBinding } from '../keymap.js';
import type { AppContext } from '../view.js';
import type { Table } from '../widgets/table.js';

/** Keys the Resources and Providers views share. */

/** Reloads the list, then says what was done (in this order: the reload's own status message would replace it). */
export function reloadSaying(ctx: AppContext, reload: () => void): (message: string) => void {
  return (message) => {
    reload();
    ctx.status.ok(message);
  };
}

/** What `D` deletes and how it asks. */
export interface DeleteSpec<T> {
  /** `provider`, `resource`: in the hint help and when nothing is selected. */
  readonly noun: string;
  /** How the key's help describes it (what else happens or is refused). */
  readonly help: string;
  /** The y/n question, naming the selected item. */
  question(item: T): string;
  remove(item: T): Promise<void>;
  /** The status line once it is gone. */
  deleted(item: T): string;
}

/** `D`: deletes the selected row after a y/n naming it; an API refusal lands in the status line and the row stays. */
export function deleteBinding<T>(ctx: AppContext, table: Table<T>, reload: () => void, spec: DeleteSpec<T>): KeyBinding {
  const done = reloadSaying(ctx, reload);
  return {
    keys: ['S-d'],
    label: 'delete',
    help: spec.help,
    disabled: () => (table.selected() === undefined ? `no ${spec.noun} selected` : undefined),
    run: async () => {
      const item = table.selected();
      if (item === undefined) return;
      if (!(await ctx.confirm(spec.question(item)))) {
        ctx.status.info('cancelled');
        return;
      }
      const removed = await ctx.task(`deleting ${spec.noun}`, async () => {
        await spec.remove(item);
        return true;
      });
      if (removed !== undefined) done(spec.deleted(item));
    },
  };
}
