import type { ProviderView } from '../../core/control/admin-client.js';
import { color, esc } from '../tags.js';
import { allPages, listView, zoneId } from './list-view.js';

/** Providers: upstream credentials by kind. Only the names of credential fields are shown, never values (the API never returns them). */
export const providersView = listView<ProviderView>({
  id: 'providers',
  title: 'Providers',
  summary: 'upstream credentials (kinds and field names; values are never shown)',
  aliases: ['provider'],
  goKey: 'v',
  needsZone: true,
  columns: [
    { title: 'name', width: 24, flex: true, min: 12, priority: 0, text: (p) => p.name },
    { title: 'id', width: 30, priority: 2, text: (p) => p.id },
    { title: 'kind', width: 26, priority: 0, text: (p) => p.kind },
    { title: 'credential fields', width: 24, priority: 3, text: (p) => p.credential_keys.join(', ') },
    { title: 'updated', width: 19, priority: 4, text: (p) => p.updated_at.slice(0, 19).replace('T', ' ') },
  ],
  load: (ctx) => allPages((q) => ctx.client.providers.list(zoneId(ctx), q)),
  searchText: (p) => `${p.name} ${p.id} ${p.kind}`,
  empty: () => 'no provider in this zone (the third-party provider scenario creates one)',
  detail: (p) =>
    [
      `${esc(p.name)}  ${color('gray', esc(p.id))}  ${esc(p.kind)}`,
      `credential fields: ${esc(p.credential_keys.join(', ') || '-')} ${color('gray', '(stored encrypted; never shown)')}`,
    ].join('\n'),
});
