import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyView } from '../../core/control/admin-client.js';
import { color, esc } from '../tags.js';
import type { AppContext } from '../view.js';
import { allPages, listView, zoneId } from './list-view.js';

/** A new policy's starting text in the editor. */
const TEMPLATE = `# A Caracal policy (docs/admin-api.md). Save and quit to create it; an empty file cancels.
version = 1
description = ""

[[rules]]
id = "allow-read"
effect = "allow"
apps = ["*"]
resources = ["resource://example"]
scopes = ["read"]
# methods = ["GET"]
# paths = ["/v1/**"]
`;

/**
 * Opens `text` in $VISUAL/$EDITOR (vi when neither is set) with the console suspended, and
 * returns the saved text (undefined when the editor failed). The file is owner-only and removed.
 */
export async function editInEditor(ctx: AppContext, text: string, name: string): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'caracal-policy-'));
  const file = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.toml`);
  writeFileSync(file, text, { mode: 0o600 });
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  try {
    const code = await ctx.suspend(
      () =>
        new Promise<number | null>((resolve) => {
          // The editor command may carry flags (`code --wait`): run it through the shell, with the file as "$1".
          const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
          child.on('error', () => resolve(null));
          child.on('exit', (status) => resolve(status));
        }),
    );
    if (code !== 0) {
      ctx.status.error(new Error(`the editor (${editor}) exited with ${code ?? 'an error'}; nothing was saved (set $EDITOR to change it)`));
      return undefined;
    }
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Policies: list, open a version (Enter), create in $EDITOR, simulate, roll back. */
export const policiesView = listView<PolicyView>({
  id: 'policies',
  title: 'Policies',
  summary: 'policies: view versions, validate, edit in $EDITOR, simulate, activate with a diff, roll back',
  aliases: ['policy'],
  goKey: 'o',
  needsZone: true,
  columns: [
    { title: 'name', width: 24, flex: true, min: 12, priority: 0, text: (p) => p.name },
    { title: 'id', width: 30, priority: 2, text: (p) => p.id },
    { title: 'latest', width: 6, priority: 0, text: (p) => `v${p.latest_version}` },
    { title: 'created', width: 19, priority: 3, text: (p) => p.created_at.slice(0, 19).replace('T', ' ') },
    { title: 'description', width: 40, priority: 4, text: (p) => p.description },
  ],
  load: (ctx) => allPages((q) => ctx.client.policies.list(zoneId(ctx), q)),
  searchText: (p) => `${p.name} ${p.id} ${p.description}`,
  empty: () => 'no policy in this zone: press n to write one, or run the guided setup (:setup)',
  detail: (p) => `${esc(p.name)}  ${color('gray', esc(p.id))}  latest v${p.latest_version}\n${esc(p.description)}`,
  actions: (ctx, table, reload) => [
    {
      keys: ['enter'],
      label: 'open',
      help: 'Show the latest version of the selected policy (then validate, edit, activate).',
      disabled: () => (table.selected() === undefined ? 'no policy selected' : undefined),
      run: () => {
        const policy = table.selected();
        if (policy !== undefined) ctx.push('policy', { policy: policy.id, name: policy.name });
      },
    },
    {
      keys: ['n'],
      label: 'new',
      help: 'Write a new policy in $EDITOR (validated before it is stored).',
      run: async () => {
        const name = await ctx.ask({ label: 'policy name:', validate: (v) => (/^[a-z0-9][a-z0-9._-]{0,62}$/.test(v.trim()) ? undefined : 'lowercase letters, digits, ".", "_" or "-"') });
        if (name === undefined) return;
        const source = await editInEditor(ctx, TEMPLATE, name);
        if (source === undefined || source.trim() === '') return;
        const created = await ctx.task('creating the policy', () => ctx.client.policies.create(zoneId(ctx), { name: name.trim(), document: source, format: 'toml' }));
        if (created === undefined) return;
        ctx.status.ok(`created policy ${created.name} v1; open it (enter) and press a to activate it`);
        reload();
      },
    },
    {
      keys: ['s'],
      label: 'simulate',
      help: 'Simulate a request against the active policy set (no side effects).',
      run: () => simulate(ctx),
    },
    {
      keys: ['S-b'],
      label: 'roll back',
      help: 'Roll back to the policy set version active before the current one?',
      dangerous: true,
      run: async () => {
        const result = await ctx.task('rolling back', () => ctx.client.policy.rollback(zoneId(ctx)));
        if (result !== undefined) ctx.status.ok(`active now: ${result.active.policy_set_id} v${result.active.version}${result.previous === null ? '' : ` (was v${result.previous.version})`}`);
      },
    },
  ],
});

/** Asks for a request and shows the Gateway and token-service decisions of the active set. */
export async function simulate(ctx: AppContext, set?: { id: string; version: number }): Promise<void> {
  const app = await ctx.ask({ label: 'simulate — app (ID or name):', validate: (v) => (v.trim() === '' ? 'which app?' : undefined) });
  if (app === undefined) return;
  const resource = await ctx.ask({ label: 'resource:', validate: (v) => (v.trim() === '' ? 'which resource?' : undefined) });
  if (resource === undefined) return;
  const scopes = await ctx.ask({ label: 'scopes (space-separated):' });
  if (scopes === undefined) return;
  const call = await ctx.ask({ label: 'method and path:', initial: 'GET /' });
  if (call === undefined) return;
  const [method = 'GET', path = '/'] = call.trim().split(/\s+/);
  const result = await ctx.task('simulating', () =>
    ctx.client.policy.simulate(zoneId(ctx), {
      app: app.trim(),
      resource: resource.trim(),
      scopes: scopes.split(/\s+/).filter((s) => s !== ''),
      method,
      path,
      ...(set === undefined ? {} : { policy_set: set.id, version: set.version }),
    }),
  );
  if (result === undefined) return;
  const d = result.decision;
  const mint = `token: grants ${result.mint.scopes.granted.join(' ') || 'nothing'}${result.mint.scopes.denied.length > 0 ? `, refuses ${result.mint.scopes.denied.join(' ')}` : ''}`;
  const gateway = d.effect === 'allow' ? `allow by ${d.rules.join(', ')}` : `deny (${d.reason})${d.diagnosis === null ? '' : `: ${d.diagnosis.summary}`}`;
  const text = `${method} ${path}: ${gateway} · ${mint} · set ${d.policy_set_id ?? 'none'} v${d.policy_set_version ?? '-'}`;
  if (d.effect === 'allow') ctx.status.ok(text);
  else ctx.status.error(new Error(text));
}
