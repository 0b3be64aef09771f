import { readFileSync } from 'node:fs';
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
export function createProgram(plugins: readonly Plugin[]): Command {
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
  }, plugins);
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
  return program;
}

/** Runs the CLI on argv and returns the process exit code; errors are printed once, clearly. */
export async function main(argv: readonly string[], plugins: readonly Plugin[]): Promise<number> {
  try {
    const program = createProgram(plugins);
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

/** Prints an error for a person: code, message, hint; a stack only with CARACAL_DEBUG=1. */
export function reportError(error: unknown): void {
  const err = toCaracalError(error);
  const paint = painter(canColor(process.stderr));
  const lines = [`${paint('red', 'error')} ${paint('gray', `[${err.code}]`)} ${err.message}`];
  if (err.hint) lines.push(`${paint('cyan', 'hint')}: ${err.hint}`);
  if (process.env.CARACAL_DEBUG === '1' && err.stack) lines.push(paint('gray', err.stack));
  process.stderr.write(`${lines.join('\n')}\n`);
}
