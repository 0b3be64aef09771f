import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { AuditEvent } from '../../core/audit/event.js';
import { stackStatus, type ServiceStatus } from '../../core/stack/status.js';
import { countText, homeActions, recentLine, type HomeAction } from '../models/home.js';
import { color, esc } from '../tags.js';
import type { AppContext, View, ViewFactory } from '../view.js';
import { createTable, type Table } from '../widgets/table.js';

interface Counts {
  readonly apps: string;
  readonly resources: string;
  readonly providers: string;
  readonly policies: string;
  readonly appCount: number;
}

/** Home: health of each service, the zone's counts, recent decisions with request IDs, and the menu. */
export const homeView: ViewFactory = {
  id: 'home',
  title: 'Home',
  summary: 'stack health, counts, recent decisions',
  goKey: 'h',
  create(ctx: AppContext): View {
    let top: Widgets.BoxElement | undefined;
    let menu: Table<HomeAction> | undefined;
    let services: readonly ServiceStatus[] | undefined;
    let counts: Counts | undefined;
    let recent: readonly AuditEvent[] = [];
    let generation = 0;

    const recentRows = () => (top === undefined ? 0 : Math.max(0, Math.min(recent.length, Number(ctx.screen.height) - 19)));
    const draw = () => {
      if (top === undefined || menu === undefined) return;
      const width = Number(top.width);
      const lines: string[] = [];
      if (services === undefined) lines.push(color('gray', 'checking the stack…'));
      for (const s of services ?? []) {
        lines.push(`${s.ok ? color('green', '✔') : color('red', '✖')} ${esc(s.name.padEnd(8))} ${esc(s.url)}  ${color('gray', esc(s.detail.slice(0, Math.max(0, width - s.url.length - 14))))}`);
      }
      const zone = ctx.zone();
      if (zone === undefined) lines.push(color('yellow', 'no zone chosen: press z (or start with the guided setup)'));
      else if (counts === undefined) lines.push(color('gray', `zone ${esc(zone.name)}: counting…`));
      else lines.push(`zone {bold}${esc(zone.name)}{/bold}: ${counts.apps} · ${counts.resources} · ${counts.providers} · ${counts.policies}`);
      const rows = recentRows();
      if (zone !== undefined) {
        lines.push(recent.length === 0 ? color('gray', 'no decision recorded yet in this zone') : '{bold}recent decisions{/bold} (Audit shows all; :explain <request-id>)');
        for (const event of recent.slice(0, rows)) lines.push(recentLine(event, width));
      }
      top.height = lines.length;
      top.setContent(lines.join('\n'));
      menu.box.top = lines.length + 1;
      menu.setItems(homeActions(ctx.views(), counts?.appCount));
      ctx.render();
    };

    const load = () => {
      const mine = ++generation;
      void ctx.task('checking the stack', () => stackStatus(ctx.cli.settings(), 'ready')).then((status) => {
        if (mine !== generation || status === undefined) return;
        services = status.services;
        draw();
      });
      const zone = ctx.zone();
      if (zone === undefined) {
        counts = undefined;
        recent = [];
        draw();
        return;
      }
      void ctx
        .task('counting', async () => {
          const [apps, resources, providers, policies] = await Promise.all([
            ctx.client.apps.list(zone.id, { limit: 500 }),
            ctx.client.resources.list(zone.id, { limit: 500 }),
            ctx.client.providers.list(zone.id, { limit: 500 }),
            ctx.client.policies.list(zone.id, { limit: 500 }),
          ]);
          const recentPage = await ctx.client.request<{ items: AuditEvent[] }>('GET', '/v1/audit', { query: { zone: zone.id, limit: 20 } });
          return { apps, resources, providers, policies, recent: recentPage.items };
        })
        .then((result) => {
          if (mine !== generation || result === undefined) return;
          counts = {
            apps: countText(result.apps.items.length, result.apps.next_cursor !== null, 'app'),
            resources: countText(result.resources.items.length, result.resources.next_cursor !== null, 'resource'),
            providers: countText(result.providers.items.length, result.providers.next_cursor !== null, 'provider'),
            policies: countText(result.policies.items.length, result.policies.next_cursor !== null, 'policy', 'policies'),
            appCount: result.apps.items.length,
          };
          recent = result.recent;
          draw();
        });
    };

    return {
      title: () => 'Home',
      keys: () => [
        {
          keys: ['enter'],
          label: 'open',
          help: 'Open the selected entry of the menu.',
          run: () => {
            const action = menu?.selected();
            if (action !== undefined) ctx.push(action.viewId);
          },
        },
        ...(menu?.navigation() ?? []),
      ],
      mount(body) {
        top = blessed.box({ parent: body, top: 0, left: 1, right: 1, height: 4, tags: true });
        menu = createTable<HomeAction>(body, [
          { title: 'go to', width: 14, priority: 0, text: (a) => a.title },
          { title: '', width: 60, flex: true, min: 10, priority: 1, text: (a) => a.summary },
        ]);
        draw();
        load();
      },
      unmount() {
        generation++;
        top = undefined;
        menu = undefined;
      },
      refresh: load,
      resize: draw,
    };
  },
};
