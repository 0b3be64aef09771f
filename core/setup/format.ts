import type { Color } from '../cli/output.js';
import type { SetupResult } from './setup.js';

const KIND_LABEL: Record<string, string> = { zone: 'zone', application: 'app', resource: 'resource', provider: 'provider', policy: 'policy', policy_set: 'policy set' };

/**
 * The first line of a setup result saved to a file (the console's `w`): it holds the one-time
 * client secret, so `caracal purge` recognises and removes it by this line.
 */
export const SAVED_RESULT_HEADER = '# Caracal setup result (holds a client secret: keep it private, delete it when done)';

/** The result of `caracal setup` as saved to a file: the header line, then the plain text. */
export function savedSetupResult(result: SetupResult): string {
  return `${SAVED_RESULT_HEADER}\n${formatSetupResult(result, (_color, text) => text)}`;
}

/** The result of `caracal setup` for a person: what was done, the IDs, the one-time secret, the profile, the next commands. */
export function formatSetupResult(result: SetupResult, paint: (color: Color, text: string) => string): string {
  const out: string[] = [paint('bold', `Caracal setup: ${result.scenario}`), ''];
  const width = Math.max(...result.objects.map((o) => `${o.name}${o.version === undefined ? '' : ` v${o.version}`}`.length), 4);
  for (const o of result.objects) {
    const name = `${o.name}${o.version === undefined ? '' : ` v${o.version}`}`;
    const color: Color = o.action === 'created' ? 'green' : o.action === 'reused' ? 'gray' : 'yellow';
    out.push(`  ${(KIND_LABEL[o.kind] ?? o.kind).padEnd(11)} ${name.padEnd(width)}  ${paint(color, o.action.padEnd(8))} ${paint('gray', o.id)}`);
  }
  const rows: [string, string][] = [
    ['zone ID', result.zone_id],
    ['app ID', result.application_id],
    ['resource ID', result.resource_id],
    ...(result.provider_id === null ? [] : [['provider ID', `${result.provider_id}  ${paint('gray', '(its credential is stored sealed and never shown)')}`] as [string, string]]),
    ['client secret', `${result.client_secret}  ${paint('yellow', '(shown only this once)')}`],
    ['policy set', result.policy_set_id === null ? paint('red', 'none active: every token request is refused') : `${result.policy_set_id} version ${result.policy_set_version} (active)`],
    ['profile', `${result.profile_path}${result.profile_written ? '' : paint('yellow', '  (not written: pass --write-profile)')}`],
    ['secret file', `${result.secret_file}${result.profile_written ? ' (0600)' : ''}`],
    ['gateway', result.gateway_url],
  ];
  out.push('');
  for (const [label, value] of rows) out.push(`  ${label.padEnd(14)} ${value}`);
  out.push('', paint('bold', result.profile_written ? 'Profile:' : 'Profile (to write with --write-profile):'));
  out.push(...result.profile.trimEnd().split('\n').map((line) => `  ${line}`));
  out.push('', paint('bold', 'First success:'), `  ${result.commands.run}`, `  ${result.commands.curl}`, '');
  return out.join('\n');
}
