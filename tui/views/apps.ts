import blessed from 'blessed';
import type { AppView, AppWithSecret } from '../../core/control/admin-client.js';
import type { KeyBinding } from '../keymap.js';
import { secretPanel } from '../models/secret.js';
import { color, esc } from '../tags.js';
import { allPages, listView, zoneId, type ListExtras } from './list-view.js';
import type { AppContext } from '../view.js';
import type { Table } from '../widgets/table.js';
import type { Widgets } from 'blessed';

/**
 * Apps: list, create, rotate the secret, disable/enable. A new secret lives only in this view's
 * memory, masked until `v`, and is dropped by `x`, by leaving the view or switching zone.
 */
export const appsView = listView<AppView>({
  id: 'apps',
  title: 'Apps',
  summary: 'agent apps: create (one-time secret), rotate secret, disable',
  aliases: ['applications', 'app'],
  goKey: 'a',
  needsZone: true,
  columns: [
    { title: 'name', width: 24, flex: true, min: 12, priority: 0, text: (a) => a.name },
    { title: 'id', width: 30, priority: 1, text: (a) => a.id },
    { title: 'status', width: 8, priority: 0, text: (a) => (a.disabled ? 'disabled' : 'active'), color: (a) => (a.disabled ? 'red' : 'green') },
    { title: 'secret rotated', width: 19, priority: 3, text: (a) => (a.secret_rotated_at ?? '-').slice(0, 19).replace('T', ' ') },
    { title: 'created', width: 19, priority: 4, text: (a) => a.created_at.slice(0, 19).replace('T', ' ') },
  ],
  load: (ctx) => allPages((q) => ctx.client.apps.list(zoneId(ctx), q)),
  searchText: (a) => `${a.name} ${a.id} ${a.description} ${a.disabled ? 'disabled' : 'active'}`,
  empty: () => 'no app in this zone: press n to create one, or run the guided setup (:setup)',
  detail: (a) =>
    [`${esc(a.name)}  ${color('gray', esc(a.id))}`, esc(a.description), a.disabled ? color('red', 'disabled: its tokens are refused') : ''].filter((l) => l !== '').join('\n'),
  extras: appActions,
});

function appActions(ctx: AppContext, table: Table<AppView>, reload: () => void, body: Widgets.BoxElement): ListExtras {
  const panel = blessed.box({ parent: body, bottom: 0, height: 5, left: 0, width: '100%', tags: true, hidden: true, border: { type: 'line' }, label: ' one-time secret ', style: { border: { fg: 'yellow' } } });
  let secret: { app: AppWithSecret; action: 'created' | 'rotated'; revealed: boolean } | undefined;
  const zone = () => zoneId(ctx);
  const noSelection = () => (table.selected() === undefined ? 'no app selected' : undefined);

  const draw = () => {
    if (secret === undefined) panel.hide();
    else {
      const [head, value, keys] = secretPanel(secret.app.name, secret.app.id, secret.app.client_secret, secret.revealed, secret.action);
      panel.setContent(`${esc(head ?? '')}\n{bold}${esc(value ?? '')}{/bold}\n{gray-fg}${esc(keys ?? '')}{/gray-fg}`);
      panel.show();
    }
    ctx.rebind();
  };
  const show = (app: AppWithSecret, action: 'created' | 'rotated') => {
    secret = { app, action, revealed: false };
    draw();
    reload();
  };

  return {
    reset() {
      secret = undefined;
      panel.hide();
    },
    keys() {
      const keys: KeyBinding[] = [
        {
          keys: ['n'],
          label: 'new',
          help: 'Create an app; its client secret is shown once, masked (v reveals).',
          run: async () => {
            const name = await ctx.ask({ label: 'app name:', validate: (v) => (v.trim() === '' ? 'give the app a name' : undefined) });
            if (name === undefined) return;
            const app = await ctx.task('creating the app', () => ctx.client.apps.create(zone(), { name: name.trim() }));
            if (app === undefined) return;
            ctx.status.ok(`created app ${app.name} (${app.id})`);
            show(app, 'created');
          },
        },
        {
          keys: ['S-r'],
          label: 'rotate',
          help: "Rotate the selected app's client secret? The old one stops working at once.",
          dangerous: true,
          disabled: noSelection,
          run: async () => {
            const app = table.selected();
            if (app === undefined) return;
            const rotated = await ctx.task('rotating the secret', () => ctx.client.apps.rotateSecret(zone(), app.id));
            if (rotated === undefined) return;
            ctx.status.ok(`rotated the secret of ${rotated.name}`);
            show(rotated, 'rotated');
          },
        },
        {
          keys: ['d'],
          label: 'disable/enable',
          help: 'Disable the selected app (its tokens are refused) or enable it again.',
          disabled: noSelection,
          run: async () => {
            const app = table.selected();
            if (app === undefined) return;
            if (!app.disabled && !(await ctx.confirm(`Disable ${app.name}? Its tokens are refused from now on.`))) return;
            const done = await ctx.task(app.disabled ? 'enabling' : 'disabling', () => (app.disabled ? ctx.client.apps.enable(zone(), app.id) : ctx.client.apps.disable(zone(), app.id)));
            if (done === undefined) return;
            ctx.status.ok(`${done.name} is ${done.disabled ? 'disabled' : 'enabled'}`);
            reload();
          },
        },
      ];
      if (secret !== undefined) {
        const current = secret;
        keys.push(
          {
            keys: ['v'],
            label: current.revealed ? 'hide' : 'reveal',
            help: 'Reveal or hide the one-time secret.',
            run: () => {
              current.revealed = !current.revealed;
              draw();
            },
          },
          {
            keys: ['x'],
            label: 'forget secret',
            help: 'Forget the one-time secret (it cannot be shown again).',
            run: () => {
              secret = undefined;
              draw();
            },
          },
        );
      }
      return keys;
    },
  };
}
