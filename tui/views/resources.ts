import type { ResourceView } from '../../core/control/admin-client.js';
import { color, esc } from '../tags.js';
import { allPages, listView, zoneId } from './list-view.js';

/** Resources: the protected APIs of the zone (stable ID, scopes, upstream, provider). */
export const resourcesView = listView<ResourceView>({
  id: 'resources',
  title: 'Resources',
  summary: 'protected APIs: resource IDs, scopes, upstream URLs',
  aliases: ['resource'],
  goKey: 'e',
  needsZone: true,
  columns: [
    { title: 'resource id', width: 32, priority: 0, text: (r) => r.id },
    { title: 'scopes', width: 24, priority: 1, text: (r) => r.scopes.join(' ') },
    { title: 'upstream', width: 40, flex: true, min: 16, priority: 0, text: (r) => r.upstream_url },
    { title: 'provider', width: 30, priority: 3, text: (r) => r.provider_id ?? '-' },
    { title: 'name', width: 20, priority: 4, text: (r) => r.name },
  ],
  load: (ctx) => allPages((q) => ctx.client.resources.list(zoneId(ctx), q)),
  searchText: (r) => `${r.id} ${r.name} ${r.scopes.join(' ')} ${r.upstream_url} ${r.provider_id ?? ''}`,
  empty: () => 'no resource in this zone: the guided setup (:setup) creates one, or `caracal resources create`',
  detail: (r) =>
    [
      `${esc(r.id)}  ${color('gray', esc(r.name))}`,
      `scopes    ${esc(r.scopes.join(' ') || '-')}`,
      `upstream  ${esc(r.upstream_url)}`,
      `provider  ${esc(r.provider_id ?? 'none (the Gateway forwards without an upstream credential)')}`,
    ].join('\n'),
});
