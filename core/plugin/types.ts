import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';

/** A top-level CLI command contributed by a plugin (the kernel, the Gateway, the console…). */
export interface CommandContribution {
  /** The command's name as typed, e.g. `serve` or `console`. */
  readonly name: string;
  /** Adds the command (and its subcommands) to the program; heavy modules load lazily in actions. */
  register(program: Command, cli: CliContext): void;
}

/** A Caracal plugin: a plain object of contributions and hooks (DESIGN.md §9). */
export interface Plugin {
  readonly name: string;
  readonly version?: string;
  /** The range of the plugin API this plugin works with, e.g. `^1`. */
  readonly caracal: string;
  readonly commands?: readonly CommandContribution[];
}
