import type { Command } from 'commander';
import type { RevocationResult } from '../../../control/admin-client.js';
import { CaracalError } from '../../../errors.js';
import type { CommandContribution } from '../../../plugin/types.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { adminClient, adminCommand, pageQuery, printList, printSecret, withPaging, withZone, type ListOptions, type ZoneOptions } from './shared.js';

interface RevokeFlags extends ZoneOptions {
  readonly jti?: string;
  readonly app?: string;
  readonly reason?: string;
}

function showRevocation(opts: ZoneOptions, result: RevocationResult): void {
  if (opts.json === true) {
    printJson(result);
    return;
  }
  const { revocation } = result;
  if (result.app === null) {
    process.stdout.write(`revoked token ${revocation.value} in zone ${opts.zone}; the Gateway refuses it from now on\n`);
    return;
  }
  process.stdout.write(
    `revoked every token app ${result.app.name} (${result.app.id}) held before ${revocation.not_before}, and replaced its secret\n` +
      'update the secret file of every profile that uses this app\n',
  );
  printSecret(result.app.client_secret, `${result.app.name} (${result.app.id})`);
}

/** `caracal revoke --jti J --zone Z | --app A --zone Z` (DESIGN.md §4). */
export const revokeCommand: CommandContribution = {
  name: 'revoke',
  register(program: Command, cli: CliContext): void {
    withZone(adminCommand(program, 'revoke', 'revoke one token (--jti) or, as a kill switch, every token of an app and its secret (--app)'))
      .option('--jti <jti>', 'the jti of the token to revoke')
      .option('--app <app>', 'the app (ID or name) whose live tokens are revoked and whose secret is replaced')
      .option('--reason <text>', 'why (kept with the revocation and in the audit log)')
      .action(async (opts: RevokeFlags) => {
        if ((opts.jti === undefined) === (opts.app === undefined)) {
          throw new CaracalError('CRC_USAGE', 'give exactly one of --jti J or --app A', { hint: 'caracal revoke --app billing-agent --zone eval' });
        }
        const reason = opts.reason === undefined ? {} : { reason: opts.reason };
        const client = await adminClient(cli, opts);
        const result =
          opts.jti !== undefined
            ? await client.revocations.create({ kind: 'jti', value: opts.jti, zone: opts.zone, ...reason })
            : await client.revocations.create({ kind: 'app', app: opts.app ?? '', zone: opts.zone, ...reason });
        showRevocation(opts, result);
      });
  },
};

/** `caracal revocations list [--zone Z]`: the live revocations. */
export const revocationsCommand: CommandContribution = {
  name: 'revocations',
  register(program: Command, cli: CliContext): void {
    const revocations = program.command('revocations').description('list live revocations (until every token they concern has expired)');
    withPaging(adminCommand(revocations, 'list', 'list live revocations'))
      .option('--zone <zone>', 'only this zone (ID or name)')
      .action(async (opts: ListOptions & { zone?: string }) => {
        const page = await (await adminClient(cli, opts)).revocations.list({ ...pageQuery(opts), ...(opts.zone === undefined ? {} : { zone: opts.zone }) });
        printList(opts, page, ['kind', 'value', 'zone', 'since', 'until', 'reason'], (r) => [r.kind, r.value, r.zone_id, r.not_before, r.expires_at, r.reason || '-'], 'no live revocations');
      });
  },
};
