import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canColor, painter } from '../../core/cli/output.js';
import { defaultHome, homePaths } from '../../core/config/paths.js';
import { ExitCode, toCaracalError } from '../../core/errors.js';
import { envRuntime } from './env.js';
import { fileRuntime } from './file.js';
import { proxyRuntime } from './proxy.js';

/** The parsed `caracal run` command line. */
export interface RunArgs {
  readonly profile?: string;
  readonly runtime?: string;
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * Parses `run [--profile P] [--runtime R] [--] <command> [args…]` (argv without node and the bin),
 * or returns undefined for anything else (help, unknown options, no command), which the full CLI
 * then handles and explains.
 */
export function parseRunArgs(argv: readonly string[]): RunArgs | undefined {
  if (argv[0] !== 'run') return undefined;
  let profile: string | undefined;
  let runtime: string | undefined;
  let i = 1;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name === '--profile' || name === '--runtime') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') return undefined;
      if (name === '--profile') profile = value;
      else runtime = value;
    } else if (arg.startsWith('-')) {
      return undefined;
    } else {
      break;
    }
  }
  const command = argv[i];
  if (command === undefined || command === '') return undefined;
  return { ...(profile === undefined ? {} : { profile }), ...(runtime === undefined ? {} : { runtime }), command, args: argv.slice(i + 1) };
}

/**
 * `caracal run` without the CLI frame (commander, settings, every plugin's commands): the bin
 * calls this first, because a workload pays the start-up on every launch. It applies only when
 * no plugin is installed (an installed plugin may contribute a runtime) and the arguments parse;
 * otherwise it returns undefined and the full CLI runs. Same behaviour and exit codes as the
 * `run` command (core/cli/commands/run.ts).
 */
export async function fastRun(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const parsed = parseRunArgs(argv.slice(2));
  if (parsed === undefined) return undefined;
  if (existsSync(join(homePaths(defaultHome(env)).plugins, 'package.json'))) return undefined;
  try {
    const { runWithProfile } = await import('../../core/run/run.js');
    return await runWithProfile({ ...parsed, runtimes: [envRuntime, fileRuntime, proxyRuntime], env });
  } catch (error) {
    // As the full CLI prints it (core/cli/main.ts reportError), without loading the CLI for it.
    const err = toCaracalError(error);
    const paint = painter(canColor(process.stderr));
    const lines = [`${paint('red', 'error')} ${paint('gray', `[${err.code}]`)} ${err.message}`];
    if (err.hint) lines.push(`${paint('cyan', 'hint')}: ${err.hint}`);
    if (env.CARACAL_DEBUG === '1' && err.stack) lines.push(paint('gray', err.stack));
    process.stderr.write(`${lines.join('\n')}\n`);
    return ExitCode.failure;
  }
}
