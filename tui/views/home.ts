import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { AppContext, View, ViewFactory } from '../view.js';
import { esc } from '../tags.js';

/** Home: where the console starts (a menu of the registered views for now). */
export const homeView: ViewFactory = {
  id: 'home',
  title: 'Home',
  summary: 'stack health, counts, recent decisions',
  goKey: 'h',
  create(ctx: AppContext): View {
    let list: Widgets.ListElement | undefined;
    const entries = () => ctx.views().filter((f) => f.listed !== false && f.id !== 'home');
    return {
      title: () => 'Home',
      keys: () => [
        {
          keys: ['enter'],
          label: 'open',
          help: 'Open the selected view.',
          run: () => {
            const target = entries()[(list as unknown as { selected: number } | undefined)?.selected ?? 0];
            if (target !== undefined) ctx.push(target.id);
          },
        },
      ],
      mount(body) {
        list = blessed.list({ parent: body, top: 0, left: 1, right: 1, bottom: 0, keys: true, tags: true, style: { selected: { inverse: true } } });
        list.setItems(entries().map((f) => `${esc(f.title.padEnd(12))} ${esc(f.summary)}`));
        list.focus();
      },
      unmount() {
        list = undefined;
      },
      refresh() {
        ctx.render();
      },
    };
  },
};
