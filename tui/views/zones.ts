import type { ZoneView } from '../../core/control/admin-client.js';
import { returnTarget } from '../models/zone-return.js';
import { color, esc } from '../tags.js';
import type { AppContext, ViewFactory, ViewParams } from '../view.js';
import { allPages, listView } from './list-view.js';

const ZONE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** The zone list with its keys; `zonesView` adds the return to the view that sent people here. */
const zonesList = listView<ZoneView>({
  id: 'zones',
  title: 'Zones',
  summary: 'trust boundaries: list, create, switch the current zone',
  goKey: 'z',
  columns: [
    { title: 'name', width: 24, flex: true, min: 12, priority: 0, text: (z) => z.name },
    { title: 'id', width: 30, priority: 1, text: (z) => z.id },
    { title: 'kind', width: 10, priority: 0, text: (z) => z.kind },
    { title: 'created', width: 19, priority: 3, text: (z) => z.created_at.slice(0, 19).replace('T', ' ') },
    { title: 'description', width: 40, priority: 4, text: (z) => z.description ?? '' },
  ],
  load: (ctx) => allPages((q) => ctx.client.zones.list(q)),
  searchText: (z) => `${z.name} ${z.id} ${z.kind} ${z.description ?? ''}`,
  empty: () => 'no zone yet: press n to create one (or run the guided setup: `:setup`)',
  detail: (z) =>
    [
      `${esc(z.name)}  ${color('gray', esc(z.id))}  ${esc(z.kind)}`,
      z.description ? esc(z.description) : '',
      z.allowed_private_hosts.length > 0 ? `allowed private hosts: ${esc(z.allowed_private_hosts.join(', '))}` : '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  actions: (ctx, table, reload) => [
    {
      keys: ['enter'],
      label: 'use',
      help: 'Make the selected zone the current one.',
      disabled: () => (table.selected() === undefined ? 'no zone selected' : undefined),
      run: () => {
        const zone = table.selected();
        if (zone === undefined) return;
        ctx.setZone({ id: zone.id, name: zone.name });
        ctx.status.ok(`current zone: ${zone.name}`);
      },
    },
    {
      keys: ['n'],
      label: 'new',
      help: 'Create a zone (an evaluation zone allows upstreams on loopback and private addresses).',
      run: async () => {
        const name = await ctx.ask({
          label: 'zone name:',
          validate: (v) => (ZONE_NAME.test(v.trim()) ? undefined : 'lowercase letters, digits, ".", "_" or "-", up to 63'),
        });
        if (name === undefined) return;
        const kind = await ctx.ask({
          label: 'kind (evaluation/production):',
          initial: 'evaluation',
          validate: (v) => (v === 'evaluation' || v === 'production' ? undefined : 'type evaluation or production'),
        });
        if (kind === undefined) return;
        const zone = await ctx.task('creating the zone', () => ctx.client.zones.create({ name: name.trim(), kind: kind as 'evaluation' | 'production' }));
        if (zone === undefined) return;
        ctx.setZone({ id: zone.id, name: zone.name });
        reload(); // before the message: the reload's own status message would replace it
        ctx.status.ok(`created zone ${zone.name} (${zone.id}); it is now the current zone`);
      },
    },
  ],
});

/**
 * Zones: list, create, and switch the current zone (Enter). Opened by the shell on the way to a
 * view that needs a zone, it opens that view in its place once a zone is picked or created.
 */
export const zonesView: ViewFactory = {
  ...zonesList,
  create(ctx, params) {
    const target = returnTarget(params);
    return zonesList.create(target === undefined ? ctx : returningTo(ctx, target), params);
  },
};

/** The context whose `setZone` goes on to the view first asked for. */
function returningTo(ctx: AppContext, target: { readonly viewId: string; readonly params: ViewParams }): AppContext {
  return {
    ...ctx,
    setZone(zone) {
      ctx.setZone(zone);
      ctx.replace(target.viewId, target.params);
    },
  };
}
