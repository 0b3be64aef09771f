import type { Command } from 'commander';
import type { CommandContribution } from '../../../plugin/types.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { adminClient, adminCommand, printList, withZone, type ZoneOptions } from './shared.js';

/** `caracal keys list|rotate --zone Z`: the zone's token signing keys (public parts only). */
export const keysCommand: CommandContribution = {
  name: 'keys',
  register(program: Command, cli: CliContext): void {
    const keys = program.command('keys').description("manage a zone's token signing keys");

    withZone(adminCommand(keys, 'list', "list the zone's signing keys (public parts only)")).action(async (opts: ZoneOptions) => {
      const { items } = await (await adminClient(cli, opts)).keys.list(opts.zone);
      printList(
        opts,
        { items, next_cursor: null },
        ['kid', 'alg', 'status', 'created', 'published until'],
        (k) => [k.kid, k.alg, k.status, k.created_at, k.status === 'active' ? '-' : (k.retire_after ?? '-')],
        `zone ${opts.zone} has no signing key yet (one is made at the first token, or with \`caracal keys rotate --zone ${opts.zone}\`)`,
      );
    });

    withZone(adminCommand(keys, 'rotate', 'make a new active signing key; the previous one stays published until its tokens expire')).action(
      async (opts: ZoneOptions) => {
        const result = await (await adminClient(cli, opts)).keys.rotate(opts.zone);
        if (opts.json === true) printJson(result);
        else {
          const retired = result.retired === null ? '' : `; ${result.retired.kid} stays published until ${result.retired.retire_after ?? '?'}`;
          process.stdout.write(`zone ${opts.zone} now signs with ${result.active.kid}${retired}\n`);
        }
      },
    );
  },
};
