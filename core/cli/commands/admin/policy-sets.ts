import type { Command } from 'commander';
import type { ActivationView, DecisionView, PolicyMember, PolicySetVersionView, PolicySetView } from '../../../control/admin-client.js';
import { CaracalError } from '../../../errors.js';
import type { CommandContribution } from '../../../plugin/types.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import {
  adminClient,
  adminCommand,
  cell,
  collect,
  pageQuery,
  parseVersion,
  printList,
  printObject,
  splitList,
  withPaging,
  withZone,
  type ListOptions,
  type ZoneOptions,
} from './shared.js';

/** Parses `NAME[@VERSION]` (`--policy`, `--policy-set`; the latest version when none is given). */
export function parseMember(value: string): PolicyMember {
  const at = /^(.+)@([1-9][0-9]{0,8})$/.exec(value);
  if (at === null) {
    if (value.trim() === '') throw new CaracalError('CRC_USAGE', 'give an ID or name, optionally with @VERSION');
    return { policy: value };
  }
  return { policy: at[1] ?? value, version: Number(at[2]) };
}

function members(values: readonly string[] | undefined): PolicyMember[] {
  if (values === undefined || values.length === 0) {
    throw new CaracalError('CRC_USAGE', 'give at least one --policy NAME[@VERSION]');
  }
  return values.map(parseMember);
}

function memberCell(version: PolicySetVersionView): string {
  return version.policies.map((p) => `${p.policy_id}@${p.version}`).join(', ');
}

function showSet(opts: ZoneOptions, set: PolicySetView, title?: string): void {
  printObject(
    opts,
    set,
    [
      ['id', set.id],
      ['name', set.name],
      ['zone', set.zone_id],
      ['description', set.description || '-'],
      ['latest version', set.latest_version === 0 ? 'none yet' : String(set.latest_version)],
      ['created', set.created_at],
    ],
    title,
  );
}

function showActivation(opts: ZoneOptions, result: ActivationView, verb: string): void {
  if (opts.json === true) {
    printJson(result);
    return;
  }
  const previous = result.previous === null ? 'none' : `${result.previous.policy_set_id}@${result.previous.version}`;
  process.stdout.write(`${verb} ${result.active.policy_set_id}@${result.active.version} in zone ${opts.zone} (previously active: ${previous})\n`);
}

function decisionLines(label: string, decision: DecisionView): string[] {
  const lines = [`${label}: ${decision.effect.toUpperCase()}${decision.reason === null ? '' : ` (${decision.reason})`}`];
  if (decision.rules.length > 0) lines.push(`  deciding rules: ${decision.rules.join(', ')}`);
  const set = decision.policy_set_id === null ? 'no active policy set' : `${decision.policy_set_id}@${decision.policy_set_version ?? '?'}`;
  lines.push(`  policy set: ${set}`);
  if (decision.diagnosis !== null) {
    lines.push(`  why: ${decision.diagnosis.summary}`);
    // The summary names the nearest rule; list the others that came close.
    for (const rule of decision.diagnosis.nearest.slice(1)) lines.push(`  also near: ${rule.sentence}`);
  }
  return lines;
}

/** `caracal policy-sets list|get|create|add-version|versions|activate|active|rollback|simulate`. */
export const policySetsCommand: CommandContribution = {
  name: 'policy-sets',
  register(program: Command, cli: CliContext): void {
    const sets = program.command('policy-sets').description('manage policy sets (ordered policy versions), activate, roll back and simulate');

    withPaging(withZone(adminCommand(sets, 'list', 'list the policy sets of a zone, marking the active one'))).action(async (opts: ListOptions & ZoneOptions) => {
      const client = await adminClient(cli, opts);
      const [page, { active }] = await Promise.all([client.policySets.list(opts.zone, pageQuery(opts)), client.policy.active(opts.zone)]);
      printList(
        opts,
        page,
        ['id', 'name', 'latest version', 'active'],
        (s) => [s.id, s.name, String(s.latest_version), active?.policy_set_id === s.id ? `version ${active.version}` : '-'],
        `no policy sets in zone ${opts.zone}`,
      );
    });

    withZone(adminCommand(sets, 'get', 'show a policy set'))
      .argument('<set>', 'policy set ID or name')
      .action(async (ref: string, opts: ZoneOptions) => showSet(opts, await (await adminClient(cli, opts)).policySets.get(opts.zone, ref)));

    withZone(adminCommand(sets, 'create', 'create a policy set, with a first version when --policy is given'))
      .argument('<name>', 'policy set name')
      .option('--policy <policy[@version]>', 'a member policy (repeat, in order; latest version when none given)', collect)
      .option('--description <text>', 'what the set is for')
      .action(async (name: string, opts: ZoneOptions & { policy?: string[]; description?: string }) => {
        const set = await (await adminClient(cli, opts)).policySets.create(opts.zone, {
          name,
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(opts.policy === undefined ? {} : { policies: members(opts.policy) }),
        });
        showSet(opts, set, `created policy set ${set.name}`);
      });

    withZone(adminCommand(sets, 'add-version', 'add an immutable version: an ordered list of policy versions'))
      .argument('<set>', 'policy set ID or name')
      .option('--policy <policy[@version]>', 'a member policy (repeat, in order; latest version when none given)', collect)
      .action(async (ref: string, opts: ZoneOptions & { policy?: string[] }) => {
        const version = await (await adminClient(cli, opts)).policySets.addVersion(opts.zone, ref, members(opts.policy));
        if (opts.json === true) printJson(version);
        else process.stdout.write(`added version ${version.version} to policy set ${ref}: ${memberCell(version)}\nactivate it: caracal policy-sets activate ${ref} ${version.version} --zone ${opts.zone}\n`);
      });

    withPaging(withZone(adminCommand(sets, 'versions', 'list the versions of a policy set')))
      .argument('<set>', 'policy set ID or name')
      .action(async (ref: string, opts: ListOptions & ZoneOptions) => {
        const page = await (await adminClient(cli, opts)).policySets.listVersions(opts.zone, ref, pageQuery(opts));
        printList(opts, page, ['version', 'policies', 'created'], (v) => [String(v.version), memberCell(v), v.created_at], `policy set ${ref} has no versions yet`);
      });

    withZone(adminCommand(sets, 'activate', "make a version the zone's active policy (atomic; every node within a second)"))
      .argument('<set>', 'policy set ID or name')
      .argument('[version]', 'the version to activate (default: the latest)')
      .action(async (ref: string, version: string | undefined, opts: ZoneOptions) => {
        const client = await adminClient(cli, opts);
        showActivation(opts, await client.policySets.activate(opts.zone, ref, version === undefined ? undefined : parseVersion(version, 'VERSION')), 'activated');
      });

    withZone(adminCommand(sets, 'active', "show the zone's active policy set version")).action(async (opts: ZoneOptions) => {
      const { active } = await (await adminClient(cli, opts)).policy.active(opts.zone);
      if (opts.json === true) printJson({ active });
      else if (active === null) process.stdout.write(`zone ${opts.zone} has no active policy set: every request is denied\n`);
      else process.stdout.write(`${active.policy_set_id}@${active.version} (activated ${active.activated_at})\n`);
    });

    withZone(adminCommand(sets, 'rollback', 're-activate the policy set version that was active before')).action(async (opts: ZoneOptions) => {
      showActivation(opts, await (await adminClient(cli, opts)).policy.rollback(opts.zone), 'rolled back to');
    });

    withZone(adminCommand(sets, 'simulate', 'decide a request against the active (or any) version, without side effects'))
      .requiredOption('--app <app>', 'app ID or name')
      .requiredOption('--resource <resource>', 'resource ID or slug')
      .requiredOption('--scopes <scopes>', "the token's scopes (comma-separated)")
      .option('--method <method>', 'HTTP method', 'GET')
      .option('--path <path>', 'request path', '/')
      .option('--policy-set <set[@version]>', 'simulate this policy set version instead of the active one (default: its latest)')
      .action(async (opts: ZoneOptions & { app: string; resource: string; scopes: string; method: string; path: string; policySet?: string }) => {
        const target = opts.policySet === undefined ? undefined : parseMember(opts.policySet);
        const result = await (await adminClient(cli, opts)).policy.simulate(opts.zone, {
          app: opts.app,
          resource: opts.resource,
          scopes: splitList(opts.scopes),
          method: opts.method,
          path: opts.path,
          ...(target === undefined ? {} : { policy_set: target.policy }),
          ...(target?.version === undefined ? {} : { version: target.version }),
        });
        if (opts.json === true) {
          printJson(result);
          return;
        }
        const lines = [
          ...decisionLines(`request ${opts.method.toUpperCase()} ${opts.path}`, result.decision),
          ...decisionLines('token', result.mint),
          `  scopes granted: ${cell(result.mint.scopes.granted)}; refused: ${cell(result.mint.scopes.denied)}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      });
  },
};
