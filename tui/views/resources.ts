import type { Widgets } from 'blessed';
import type { ResourceView } from '../../core/control/admin-client.js';
import type { KeyBinding } from '../keymap.js';
import { resourceFields, resourceInputOf, upstreamField, upstreamUrlOf } from '../models/admin-forms.js';
import { color, esc } from '../tags.js';
import type { AppContext } from '../view.js';
import type { Table } from '../widgets/table.js';
import { askField, askFields, createPromptPanel } from './field-prompts.js';
import { deleteBinding, reloadSaying as saying } from './list-actions.js';
import { allPages, listView, zoneId, type ListExtras } from './list-view.js';

/**
 * Resources: the protected APIs of the zone (stable ID, scopes, upstream, provider). `n` creates
 * one (the guided setup's fields, then an optional provider), `e` edits the upstream URL, `D`
 * deletes (confirmed). The admin API's refusals (an upstream host a provider does not allow, an
 * ID in use) land in the status line with its message and hint.
 */
export const resourcesView = listView<ResourceView>({
  id: 'resources',
  title: 'Resources',
  summary: 'protected APIs: create, edit the upstream URL, delete',
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
  empty: () => 'no resource in this zone: press n to create one, or run the guided setup (:setup)',
  detail: (r) =>
    [
      `${esc(r.id)}  ${color('gray', esc(r.name))}`,
      `scopes    ${esc(r.scopes.join(' ') || '-')}`,
      `upstream  ${esc(r.upstream_url)}`,
      `provider  ${esc(r.provider_id ?? 'none (the Gateway forwards without an upstream credential)')}`,
    ].join('\n'),
  extras: resourceActions,
});

function resourceActions(ctx: AppContext, table: Table<ResourceView>, reload: () => void, body: Widgets.BoxElement): ListExtras {
  const panel = createPromptPanel(ctx, body);
  const zone = () => zoneId(ctx);
  const noSelection = () => (table.selected() === undefined ? 'no resource selected' : undefined);
  const reloadSaying = saying(ctx, reload);

  async function create(): Promise<void> {
    // The zone's provider names, for tab completion in the provider prompt.
    const providers = (await ctx.task('loading providers', () => allPages((q) => ctx.client.providers.list(zone(), q)))) ?? [];
    const answers = await askFields(ctx, panel, 'New resource', resourceFields, { completions: { provider: providers.map((p) => p.name) } });
    if (answers === undefined) return;
    const input = resourceInputOf(answers);
    const created = await ctx.task(`creating ${input.id}`, () => ctx.client.resources.create(zone(), input));
    if (created === undefined) return;
    reloadSaying(`created ${created.id}; a policy must grant its scopes before tokens for it are issued`);
  }

  const keys: KeyBinding[] = [
    { keys: ['n'], label: 'new', help: 'Create a resource: ID, scopes, upstream URL and an optional provider.', run: create },
    {
      keys: ['e'],
      label: 'edit upstream',
      help: "Change the selected resource's upstream URL (the Gateway forwards there within a second).",
      disabled: noSelection,
      run: async () => {
        const resource = table.selected();
        if (resource === undefined) return;
        const url = await askField(ctx, panel, `Edit ${resource.id}`, upstreamField, [], { initial: resource.upstream_url });
        if (url === undefined || upstreamUrlOf(url) === resource.upstream_url) return;
        const updated = await ctx.task(`updating ${resource.id}`, () => ctx.client.resources.update(zone(), resource.id, { upstream_url: upstreamUrlOf(url) }));
        if (updated === undefined) return;
        reloadSaying(`${updated.id} now forwards to ${updated.upstream_url}`);
      },
    },
    deleteBinding(ctx, table, reload, {
      noun: 'resource',
      help: 'Delete the selected resource (asks first): calls naming it are refused from then on.',
      question: (r) => `Delete resource ${r.id}? Calls naming it are refused (404) from now on.`,
      remove: (r) => ctx.client.resources.delete(zone(), r.id),
      deleted: (r) => `deleted ${r.id}`,
    }),
  ];
  return { keys: () => keys, reset: () => panel.hide() };
}
