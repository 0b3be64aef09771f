import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultHome, homePaths } from '../config/paths.js';
import { Command, CommanderError } from 'commander';
import { CaracalError, ExitCode, toCaracalError } from '../errors.js';
import type { Plugin } from '../plugin/types.js';
import { createCliContext } from './context.js';
import { canColor, painter } from './output.js';

/** The installed package's version (from package.json beside dist/). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Builds the commander program with every plugin's commands registered. */
export function createProgram(plugins: readonly Plugin[], builtins: readonly Plugin[] = plugins): Command {
  const program = new Command('caracal')
    .description('A policy-checked, audited gate between agents and the HTTP APIs they call.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--home <dir>', 'Caracal home (state, keys, logs, plugins); env CARACAL_HOME')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run "caracal --help" for the list of commands)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const cli = createCliContext(() => {
    const home = program.opts<{ home?: string }>().home;
    return home === undefined ? {} : { home };
  }, plugins, builtins);
  const seen = new Map<string, string>();
  for (const plugin of plugins) {
    for (const command of plugin.commands ?? []) {
      const owner = seen.get(command.name);
      if (owner !== undefined) {
        throw new CaracalError('CRC_PLUGIN_INVALID', `plugin ${plugin.name} contributes command "${command.name}", already contributed by ${owner}`, {
          hint: `remove one of the two plugins (caracal plugin remove ${plugin.name})`,
        });
      }
      seen.set(command.name, plugin.name);
      command.register(program, cli);
    }
  }
  pointErrorsAtOwnHelp(program, 'caracal');
  return program;
}

/**
 * Makes each subcommand's usage errors (a missing argument, an unknown option) point at its own
 * help, `caracal explain --help`, where the argument is described, rather than the root's list.
 */
function pointErrorsAtOwnHelp(command: Command, path: string): void {
  for (const sub of command.commands) {
    const subPath = `${path} ${sub.name()}`;
    sub.showHelpAfterError(`(run "${subPath} --help" for its usage)`);
    pointErrorsAtOwnHelp(sub, subPath);
  }
}

/**
 * The built-ins plus the plugins installed in the home (`caracal plugin add`), so their commands,
 * scenarios and runtimes are part of this invocation. A plugin that fails to load is left out here
 * and reported by `caracal plugin list` and `caracal status`. The loader is imported only when
 * something is installed, so a plain installation starts without it.
 */
export async function withInstalledPlugins(argv: readonly string[], builtins: readonly Plugin[]): Promise<readonly Plugin[]> {
  const home = homeFromArgv(argv) ?? defaultHome();
  if (!existsSync(join(homePaths(home).plugins, 'package.json'))) return builtins;
  const { loadPlugins } = await import('../plugin/loader.js');
  const result = await loadPlugins({ builtins, home, mode: 'cli', builtinVersion: VERSION });
  return result.plugins.map((record) => record.plugin);
}

function homeFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return undefined;
    if (arg === '--home') return argv[i + 1];
    if (arg.startsWith('--home=')) return arg.slice('--home='.length);
  }
  return undefined;
}

/** Runs the CLI on argv and returns the process exit code; errors are printed once, clearly. */
export async function main(argv: readonly string[], builtins: readonly Plugin[]): Promise<number> {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  try {
    const program = createProgram(await withInstalledPlugins(argv, builtins), builtins);
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit through here with code 0; usage errors were already printed.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    reportError(error);
    return toCaracalError(error).exitCode;
  }
}

/**
 * Ends the process with exit 0 when the reader of `stream` has gone (`caracal … | head -1`): what
 * was wanted has been read, and without a listener Node throws the EPIPE with a stack trace.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(ExitCode.ok);
  });
}

/** Prints an error for a person: code, message, hint; a stack only with CARACAL_DEBUG=1. */
export function reportError(error: unknown): void {
  const err = toCaracalError(error);
  const paint = painter(canColor(process.stderr));
  const lines = [`${paint('red', 'error')} ${paint('gray', `[${err.code}]`)} ${err.message}`];
  if (err.hint) lines.push(`${paint('cyan', 'hint')}: ${err.hint}`);
  if (process.env.CARACAL_DEBUG === '1' && err.stack) lines.push(paint('gray', err.stack));
  process.stderr.write(`${lines.join('\n')}\n`);
}
