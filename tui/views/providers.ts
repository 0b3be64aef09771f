import type { Widgets } from 'blessed';
import type { ProviderView } from '../../core/control/admin-client.js';
import type { ProviderKind } from '../../core/domain/types.js';
import type { KeyBinding } from '../keymap.js';
import { credentialField, credentialsOf, providerConfigFields, providerConfigOf, providerKindField, providerNameField } from '../models/admin-forms.js';
import { color, esc } from '../tags.js';
import type { AppContext } from '../view.js';
import type { Table } from '../widgets/table.js';
import { askField, askFields, createPromptPanel } from './field-prompts.js';
import { deleteBinding, reloadSaying as saying } from './list-actions.js';
import { allPages, listView, zoneId, type ListExtras } from './list-view.js';

/**
 * Providers: upstream credentials by kind. Only the names of credential fields are shown, never
 * values (the API never returns them). `n` creates one (kind, then that kind's fields, then the
 * credential in a masked prompt), `c` replaces the credential (masked), `D` deletes (confirmed).
 * A credential typed here lives in the one call that sends it: never in the view's state.
 */
export const providersView = listView<ProviderView>({
  id: 'providers',
  title: 'Providers',
  summary: 'upstream credentials: create, replace the credential, delete (values are never shown)',
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
  empty: () => 'no provider in this zone: press n to create one (or run the guided setup of the third-party provider scenario)',
  detail: (p) =>
    [
      `${esc(p.name)}  ${color('gray', esc(p.id))}  ${esc(p.kind)}`,
      `config: ${esc(configText(p.config) || '-')}`,
      `credential fields: ${esc(p.credential_keys.join(', ') || '-')} ${color('gray', '(stored encrypted; never shown)')}`,
    ].join('\n'),
  extras: providerActions,
});

/** A provider's config on one line: `header=x-api-key allowed_hosts=api.example.com`. */
function configText(config: Readonly<Record<string, unknown>>): string {
  return Object.entries(config)
    .filter(([, v]) => !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
}

function providerActions(ctx: AppContext, table: Table<ProviderView>, reload: () => void, body: Widgets.BoxElement): ListExtras {
  const panel = createPromptPanel(ctx, body);
  const zone = () => zoneId(ctx);
  const noSelection = () => (table.selected() === undefined ? 'no provider selected' : undefined);
  const reloadSaying = saying(ctx, reload);

  /** Asks the credential (masked) and sends it with `send`; the text is dropped when this returns. */
  async function withCredential(title: string, kind: ProviderKind, send: (credentials: Record<string, string>) => Promise<ProviderView>): Promise<ProviderView | undefined> {
    const text = await askField(ctx, panel, title, credentialField, []);
    if (text === undefined) return undefined;
    return ctx.task(title.toLowerCase(), () => send(credentialsOf(kind, text)));
  }

  async function create(): Promise<void> {
    const title = 'New provider';
    const kindAnswer = await askField(ctx, panel, title, providerKindField, []);
    if (kindAnswer === undefined) return;
    const kind = kindAnswer.trim() as ProviderKind;
    const name = (await askField(ctx, panel, title, providerNameField, [{ label: 'kind', value: kind }]))?.trim();
    if (name === undefined) return;
    const answers = await askFields(ctx, panel, title, providerConfigFields(kind), { answered: [{ label: 'kind', value: kind }, { label: 'name', value: name }] });
    if (answers === undefined) return;
    // Checked before the credential is asked, so nobody types a secret for a config that cannot work.
    let config: Record<string, unknown>;
    try {
      config = providerConfigOf(kind, answers);
    } catch (error) {
      ctx.status.error(error);
      return;
    }
    const created = await withCredential(`Creating provider ${name}`, kind, (credentials) => ctx.client.providers.create(zone(), { name, kind, config, credentials }));
    if (created === undefined) return;
    reloadSaying(`created provider ${created.name} (${created.id}); resources name it to get its credential`);
  }

  const keys: KeyBinding[] = [
    { keys: ['n'], label: 'new', help: 'Create a provider: its kind, that kind\'s settings, then the credential (masked, never shown again).', run: create },
    {
      keys: ['c'],
      label: 'replace credential',
      help: "Replace the selected provider's credential (masked prompt); the Gateway uses the new one within a second.",
      disabled: noSelection,
      run: async () => {
        const provider = table.selected();
        if (provider === undefined) return;
        const replaced = await withCredential(`Replacing the credential of ${provider.name}`, provider.kind, (credentials) => ctx.client.providers.replaceCredentials(zone(), provider.id, credentials));
        if (replaced === undefined) return;
        reloadSaying(`replaced the credential of ${replaced.name}; the Gateway uses it from its next snapshot (within a second)`);
      },
    },
    deleteBinding(ctx, table, reload, {
      noun: 'provider',
      help: 'Delete the selected provider (asks first; a provider that resources still use is refused).',
      question: (p) => `Delete provider ${p.name} and its stored credential?`,
      remove: (p) => ctx.client.providers.delete(zone(), p.id),
      deleted: (p) => `deleted provider ${p.name}`,
    }),
  ];
  return { keys: () => keys, reset: () => panel.hide() };
}
