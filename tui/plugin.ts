import type { Command } from 'commander';
import { CONTROL_URL_HELP } from '../core/config/client-url.js';
import type { CliContext } from '../core/cli/context.js';
import { CaracalError } from '../core/errors.js';
import { definePlugin } from '../core/plugin/types.js';

interface ConsoleFlags {
  readonly controlUrl?: string;
  readonly adminTokenFile?: string;
}

/** Whether both ends of the terminal are interactive (the console reads keys and paints a screen). */
export function hasTerminal(stdin: { isTTY?: boolean } = process.stdin, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return stdin.isTTY === true && stdout.isTTY === true;
}

/**
 * `caracal console` (DESIGN.md §10) as a built-in plugin. Only this module loads with the CLI:
 * blessed and the views are imported inside the action, so other commands do not pay for them.
 */
export const consolePlugin = definePlugin({
  name: 'console',
  caracal: '^1',
  commands: [
    {
      name: 'console',
      register(program: Command, cli: CliContext): void {
        program
          .command('console')
          .description('full-screen console: guided setup, zones, apps, policies, audit and explain, by keyboard')
          .option('--control-url <url>', CONTROL_URL_HELP)
          .option('--admin-token-file <path>', 'file holding the admin token (default: CARACAL_ADMIN_TOKEN, else CARACAL_HOME/admin-token)')
          .action(async (opts: ConsoleFlags) => {
            if (!hasTerminal()) {
              // One line (no hint line): the explanation and the way out in the message itself.
              throw new CaracalError(
                'CRC_USAGE',
                'caracal console needs an interactive terminal (stdin and stdout must be a TTY); in scripts use caracal setup, status, audit list and explain',
              );
            }
            const { adminClient } = await import('../core/cli/commands/admin/shared.js');
            const client = await adminClient(cli, opts);
            const { runConsole } = await import('./console.js');
            process.exitCode = await runConsole(cli, client);
          });
      },
    },
  ],
});
