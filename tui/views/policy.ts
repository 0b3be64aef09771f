import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { AdminClient, PolicyVersionView } from '../../core/control/admin-client.js';
import { isCaracalError } from '../../core/errors.js';
import type { PolicyRule } from '../../core/policy/types.js';
import type { KeyBinding } from '../keymap.js';
import { highlightToml, ruleDiff, withMember, type Member, type OwnedRule } from '../models/policy.js';
import { color, esc } from '../tags.js';
import type { AppContext, View, ViewFactory } from '../view.js';
import { zoneId } from './list-view.js';
import { editInEditor, simulate } from './policies.js';

/** The set the console creates when a zone has no active policy set yet. */
const DEFAULT_SET = 'default';

/** The rules of a set's members (each policy version fetched once). */
async function memberRules(client: AdminClient, zone: string, members: readonly Member[]): Promise<OwnedRule[]> {
  const versions = await Promise.all(members.map((m) => client.policies.getVersion(zone, m.policy, m.version)));
  // The API returns the rules it validated when the version was stored (core/policy/types.ts).
  return versions.flatMap((v) => v.rules.map((rule) => ({ policy: v.policy_id, rule: rule as PolicyRule })));
}

/** One policy: a version as colored TOML; validate, edit into a new version, activate with a diff, simulate. */
export const policyView: ViewFactory = {
  id: 'policy',
  title: 'Policy',
  summary: 'one policy version',
  listed: false,
  needsZone: true,
  create(ctx: AppContext, params): View {
    const policyId = params.policy ?? '';
    const name = params.name ?? policyId;
    let box: Widgets.BoxElement | undefined;
    let current: PolicyVersionView | undefined;
    let latest = 0;
    let note = '';

    const draw = () => {
      if (box === undefined) return;
      if (current === undefined) return;
      box.setContent(`${note === '' ? '' : `${note}\n\n`}${highlightToml(current.source)}`);
      ctx.render();
    };
    const show = (version: number | undefined) => {
      void ctx
        .task('loading the policy', async () => {
          const policy = await ctx.client.policies.get(zoneId(ctx), policyId);
          return ctx.client.policies.getVersion(zoneId(ctx), policyId, version ?? policy.latest_version).then((v) => ({ v, latest: policy.latest_version }));
        })
        .then((result) => {
          if (result === undefined) return;
          current = result.v;
          latest = result.latest;
          note = '';
          ctx.rebind();
          draw();
        });
    };

    const activate = async () => {
      if (current === undefined) return;
      const version = current;
      const zone = zoneId(ctx);
      const plan = await ctx.task('computing what changes', async () => {
        const { active } = await ctx.client.policy.active(zone);
        const base = active === null ? [] : (await ctx.client.policySets.getVersion(zone, active.policy_set_id, active.version)).policies.map((p) => ({ policy: p.policy_id, version: p.version }));
        const members = withMember(base, { policy: version.policy_id, version: version.version });
        const [before, after] = await Promise.all([memberRules(ctx.client, zone, base), memberRules(ctx.client, zone, members)]);
        return { active, members, diff: ruleDiff(before, after) };
      });
      if (plan === undefined) return;
      const target = plan.active === null ? `a new policy set "${DEFAULT_SET}"` : `${plan.active.policy_set_id} (now v${plan.active.version})`;
      note = [`{bold}Activating ${esc(name)} v${version.version} in ${esc(target)} changes:{/bold}`, ...plan.diff.lines].join('\n');
      draw();
      box?.setScrollPerc(0);
      if (!(await ctx.confirm(`Activate ${name} v${version.version}? (${plan.diff.changes} rule change${plan.diff.changes === 1 ? '' : 's'})`))) {
        note = '';
        draw();
        ctx.status.info('not activated');
        return;
      }
      const done = await ctx.task('activating', async () => {
        if (plan.active !== null) {
          const added = await ctx.client.policySets.addVersion(zone, plan.active.policy_set_id, plan.members);
          return ctx.client.policySets.activate(zone, plan.active.policy_set_id, added.version);
        }
        const existing = await ctx.client.policySets.get(zone, DEFAULT_SET).catch((error: unknown) => {
          if (isCaracalError(error, 'CRC_NOT_FOUND')) return undefined;
          throw error;
        });
        if (existing === undefined) {
          const created = await ctx.client.policySets.create(zone, { name: DEFAULT_SET, policies: plan.members });
          return ctx.client.policySets.activate(zone, created.id, created.created_version?.version);
        }
        const added = await ctx.client.policySets.addVersion(zone, existing.id, plan.members);
        return ctx.client.policySets.activate(zone, existing.id, added.version);
      });
      if (done === undefined) return;
      note = `${color('green', `active: ${esc(done.active.policy_set_id)} v${done.active.version}`)} (B on Policies rolls back)`;
      draw();
      ctx.status.ok(`activated ${name} v${version.version}: ${done.active.policy_set_id} v${done.active.version} is active`);
    };

    const scroll = (keys: string[], label: string, by: number): KeyBinding => ({
      keys,
      label,
      help: `Scroll ${label}.`,
      hint: false,
      run: () => {
        box?.scroll(by);
        ctx.render();
      },
    });

    return {
      title: () => `${name}${current === undefined ? '' : ` v${current.version}${current.version === latest ? ' (latest)' : ''}`}`,
      keys: () => [
        {
          keys: ['['],
          label: 'older',
          help: 'Show the previous version.',
          disabled: () => (current === undefined || current.version <= 1 ? 'this is the first version' : undefined),
          run: () => show((current?.version ?? 2) - 1),
        },
        {
          keys: [']'],
          label: 'newer',
          help: 'Show the next version.',
          disabled: () => (current === undefined || current.version >= latest ? 'this is the latest version' : undefined),
          run: () => show((current?.version ?? 0) + 1),
        },
        {
          keys: ['v'],
          label: 'validate',
          help: 'Validate this version against the current rules of the policy engine (line-precise problems).',
          run: async () => {
            if (current === undefined) return;
            const source = current.source;
            const result = await ctx.task('validating', () => ctx.client.policies.validate(zoneId(ctx), { source, format: current?.format ?? 'toml' }));
            if (result !== undefined) ctx.status.ok(`valid: ${result.rule_count} rule${result.rule_count === 1 ? '' : 's'}`);
          },
        },
        {
          keys: ['e'],
          label: 'edit',
          help: 'Edit this version in $EDITOR and store the result as a new version (validated first).',
          run: async () => {
            if (current === undefined) return;
            const source = await editInEditor(ctx, current.source, name);
            if (source === undefined || source === current.source) {
              if (source !== undefined) ctx.status.info('unchanged: no new version');
              return;
            }
            const added = await ctx.task('storing the new version', () => ctx.client.policies.addVersion(zoneId(ctx), policyId, { source, format: 'toml' }));
            if (added === undefined) return;
            ctx.status.ok(`stored ${name} v${added.version}; press a to activate it`);
            show(added.version);
          },
        },
        { keys: ['a'], label: 'activate', help: 'Activate this version: shows what changes in the active rules, then asks.', run: activate },
        { keys: ['s'], label: 'simulate', help: 'Simulate a request against the active policy set.', run: () => simulate(ctx) },
        scroll(['up'], 'up', -1),
        scroll(['down'], 'down', 1),
        scroll(['pageup'], 'page up', -10),
        scroll(['pagedown'], 'page down', 10),
      ],
      mount(body) {
        box = blessed.box({ parent: body, top: 0, left: 1, right: 1, bottom: 0, tags: true, scrollable: true, alwaysScroll: true, content: '{gray-fg}loading…{/gray-fg}' });
        show(params.version === undefined ? undefined : Number(params.version));
      },
      unmount() {
        box = undefined;
      },
      refresh: () => show(current?.version),
      resize: draw,
    };
  },
};
