import { ExitCode } from '../../errors.js';
import type { CommandContribution } from '../../plugin/types.js';

type RunFlags = { profile?: string; runtime?: string };

/**
 * `caracal run [--profile P] [--runtime R] -- <command> [args…]` (DESIGN.md §8). Exit code: the
 * child's; 127 when the command is not found; 128 + N when signal N ended it; 1 for any failure
 * before the child started. The work is imported only when the command runs.
 */
export const runCommand: CommandContribution = {
  name: 'run',
  register(program, cli) {
    program
      .command('run')
      .description('run a command with short-lived tokens from the runtime profile (exit code: the command\'s)')
      .usage('[--profile P] [--runtime R] -- <command> [args...]')
      .option('--profile <path>', 'the runtime profile (default: CARACAL_CONFIG, else <config dir>/caracal.toml)')
      .option('--runtime <id>', "how tokens reach the command: env, file or proxy (default: the profile's runtime)")
      .argument('<command>', 'the program to run (put -- before it)')
      .argument('[args...]', 'its arguments')
      .allowUnknownOption()
      .action(async (command: string, args: string[], opts: RunFlags) => {
        const { reportError } = await import('../main.js');
        try {
          const { runWithProfile } = await import('../../run/run.js');
          const runtimes = cli.plugins.flatMap((plugin) => plugin.runtimes ?? []);
          process.exitCode = await runWithProfile({ profile: opts.profile, runtime: opts.runtime, command, args, runtimes });
        } catch (error) {
          // Whatever failed, it failed before the child started: exit 1 (DESIGN.md §8).
          reportError(error);
          process.exitCode = ExitCode.failure;
        }
      });
  },
};
