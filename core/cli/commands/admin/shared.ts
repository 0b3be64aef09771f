import { readFileSync } from 'node:fs';
import { CONTROL_URL_HELP } from '../../../config/client-url.js';
import { Option, type Command } from 'commander';
import type { AdminClient, ApiPage } from '../../../control/admin-client.js';
import { CaracalError } from '../../../errors.js';
import type { CliContext } from '../../context.js';
import { canColor, formatTable, painter, printJson } from '../../output.js';

/** Options every admin command takes. */
export interface AdminOptions {
  readonly controlUrl?: string;
  readonly adminTokenFile?: string;
  readonly json?: boolean;
}

/** Options of a zone-scoped admin command. */
export interface ZoneOptions extends AdminOptions {
  readonly zone: string;
}

/** Options of a list command. */
export interface ListOptions extends AdminOptions {
  readonly limit?: string;
  readonly cursor?: string;
}

/**
 * Adds an admin subcommand with the connection flags (`--control-url`, `--admin-token-file`; the
 * token itself never goes in argv, where process listings show it) and `--json`.
 */
export function adminCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--control-url <url>', CONTROL_URL_HELP)
    .option('--admin-token-file <path>', 'file holding the admin token (default: CARACAL_ADMIN_TOKEN, else CARACAL_HOME/admin-token)')
    .option('--json', 'print JSON');
}

/** Adds the mandatory `--zone` (env CARACAL_ZONE) to a command. */
export function withZone(command: Command): Command {
  return command.addOption(new Option('--zone <zone>', 'zone ID or name').env('CARACAL_ZONE').makeOptionMandatory());
}

/** Adds `--limit` and `--cursor` to a list command. */
export function withPaging(command: Command): Command {
  return command.option('--limit <n>', 'at most this many items (1–500)').option('--cursor <cursor>', 'continue from a previous page');
}

/** Connects to the control plane as the flags, the environment and the settings say. */
export async function adminClient(cli: CliContext, opts: AdminOptions): Promise<AdminClient> {
  const { connectAdminClient } = await import('../../../control/admin-client.js');
  return connectAdminClient({
    settings: cli.settings(),
    paths: cli.paths(),
    controlUrl: opts.controlUrl,
    adminTokenFile: opts.adminTokenFile,
  });
}

/** The paging query of a list command. */
export function pageQuery(opts: ListOptions): { limit?: number; cursor?: string } {
  const query: { limit?: number; cursor?: string } = {};
  if (opts.limit !== undefined) {
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CaracalError('CRC_USAGE', `--limit must be a whole number from 1 to 500, got "${opts.limit}"`);
    query.limit = limit;
  }
  if (opts.cursor !== undefined) query.cursor = opts.cursor;
  return query;
}

/** Splits `a,b , c` into `['a','b','c']`. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses a positive whole-number flag value. */
export function parseVersion(value: string, flag = '--version'): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new CaracalError('CRC_USAGE', `${flag} must be a whole number from 1, got "${value}"`);
  return Number(value);
}

/** Reads a file given on the command line (`-` reads stdin). */
export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new CaracalError('CRC_USAGE', `cannot read the ${what} ${path === '-' ? 'from stdin' : `file ${path}`}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
    });
  }
}

/** Prints a list: JSON page, or a table (and, when more items exist, how to get them). */
export function printList<T>(opts: AdminOptions, page: ApiPage<T>, header: readonly string[], row: (item: T) => string[], empty: string): void {
  if (opts.json === true) {
    printJson(page);
    return;
  }
  if (page.items.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  process.stdout.write(`${formatTable(header, page.items.map(row))}\n`);
  if (page.next_cursor !== null) process.stderr.write(`more items: add --cursor ${page.next_cursor}\n`);
}

/** Prints one object: JSON, or aligned `label  value` lines under an optional title. */
export function printObject(opts: AdminOptions, value: unknown, fields: readonly (readonly [string, string])[], title?: string): void {
  if (opts.json === true) {
    printJson(value);
    return;
  }
  const width = Math.max(...fields.map(([label]) => label.length));
  const lines = fields.map(([label, text]) => `${`${label}:`.padEnd(width + 2)}${text}`);
  process.stdout.write(`${title === undefined ? '' : `${title}\n`}${lines.join('\n')}\n`);
}

/** Prints a one-time secret for a person, clearly labelled (it is in the JSON output as `client_secret`). */
export function printSecret(secret: string, subject: string): void {
  const paint = painter(canColor(process.stdout));
  process.stdout.write(
    `\n${paint('bold', 'client secret')} of ${subject} ${paint('yellow', '(shown once; store it now, it cannot be shown again)')}:\n  ${secret}\n`,
  );
}

/** Prints the outcome of a delete. */
export function printDeleted(opts: AdminOptions, kind: string, id: string): void {
  if (opts.json === true) printJson({ deleted: true, kind, id });
  else process.stdout.write(`deleted ${kind} ${id}\n`);
}

/** Refuses an update that changes nothing, naming the flags that would. */
export function requireChanges(patch: object, flags: string): void {
  if (Object.keys(patch).length === 0) throw new CaracalError('CRC_USAGE', `nothing to change: give at least one of ${flags}`);
}

/** A list value for a table cell. */
export function cell(values: readonly string[] | null | undefined): string {
  return values === null || values === undefined || values.length === 0 ? '-' : values.join(',');
}
