import type { Command } from 'commander';
import type { ProviderInput, ProviderView } from '../../../control/admin-client.js';
import { CaracalError } from '../../../errors.js';
import type { CommandContribution } from '../../../plugin/types.js';
import type { CliContext } from '../../context.js';
import {
  adminClient,
  adminCommand,
  cell,
  pageQuery,
  printDeleted,
  printList,
  printObject,
  readInputFile,
  requireChanges,
  splitList,
  withPaging,
  withZone,
  type ListOptions,
  type ZoneOptions,
} from './shared.js';

type Kind = ProviderInput['kind'];
const KINDS: readonly Kind[] = ['api-key', 'bearer', 'basic', 'oauth2-client-credentials'];

interface ConfigFlags {
  readonly header?: string;
  readonly query?: string;
  readonly scheme?: string;
  readonly tokenUrl?: string;
  readonly clientId?: string;
  readonly scopes?: string;
  readonly audience?: string;
  readonly authMethod?: string;
  readonly allowedHosts?: string;
}
interface ProviderFlags extends ZoneOptions, ConfigFlags {
  readonly kind?: string;
  readonly name?: string;
  readonly credentialFile?: string;
}

/** The config keys the flags set (only those given). */
function configFromFlags(flags: ConfigFlags): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (flags.header !== undefined) config.header = flags.header;
  if (flags.query !== undefined) config.query = flags.query;
  if (flags.scheme !== undefined) config.scheme = flags.scheme;
  if (flags.tokenUrl !== undefined) config.token_url = flags.tokenUrl;
  if (flags.clientId !== undefined) config.client_id = flags.clientId;
  if (flags.scopes !== undefined) config.scopes = splitList(flags.scopes);
  if (flags.audience !== undefined) config.audience = flags.audience;
  if (flags.authMethod !== undefined) config.auth_method = flags.authMethod;
  if (flags.allowedHosts !== undefined) config.allowed_hosts = splitList(flags.allowedHosts);
  return config;
}

/**
 * Reads a credential file: a JSON object of the kind's fields, or the bare secret (api-key: the
 * key; bearer: the token; oauth2: the client secret; basic: `user:password`). Never from argv.
 */
export function parseCredentialFile(kind: Kind, text: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      // The text is secret: say what is wrong without quoting it.
      throw new CaracalError('CRC_USAGE', 'the credential file starts with "{" but is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
      throw new CaracalError('CRC_USAGE', 'a JSON credential file must be an object of strings, e.g. {"api_key": "…"}');
    }
    return parsed as Record<string, string>;
  }
  if (trimmed === '') throw new CaracalError('CRC_USAGE', 'the credential file is empty');
  if (kind === 'api-key') return { api_key: trimmed };
  if (kind === 'bearer') return { token: trimmed };
  if (kind === 'oauth2-client-credentials') return { client_secret: trimmed };
  const colon = trimmed.indexOf(':');
  if (colon <= 0) throw new CaracalError('CRC_USAGE', 'a basic credential file holds user:password (or JSON {"username": …, "password": …})');
  return { username: trimmed.slice(0, colon), password: trimmed.slice(colon + 1) };
}

function showProvider(opts: ZoneOptions, provider: ProviderView, title?: string): void {
  const config = Object.entries(provider.config).map(([key, value]): [string, string] => [
    `  ${key}`,
    Array.isArray(value) ? cell(value as string[]) : String(value),
  ]);
  printObject(
    opts,
    provider,
    [
      ['id', provider.id],
      ['name', provider.name],
      ['kind', provider.kind],
      ['zone', provider.zone_id],
      ['credential keys', `${cell(provider.credential_keys)} (values are write-only)`],
      ['config', config.length === 0 ? '-' : ''],
      ...config,
      ['created', provider.created_at],
    ],
    title,
  );
}

function withConfigFlags(command: Command): Command {
  return command
    .option('--header <name>', 'api-key/bearer: header that carries the credential')
    .option('--query <name>', 'api-key: query parameter that carries the key (instead of a header)')
    .option('--scheme <scheme>', 'api-key/bearer: scheme before the value, e.g. Bearer or Token')
    .option('--token-url <url>', 'oauth2-client-credentials: the token endpoint')
    .option('--client-id <id>', 'oauth2-client-credentials: the client ID')
    .option('--scopes <scopes>', 'oauth2-client-credentials: scopes to request (comma-separated)')
    .option('--audience <audience>', 'oauth2-client-credentials: audience to request')
    .option('--auth-method <method>', 'oauth2-client-credentials: client_secret_basic or client_secret_post')
    .option('--allowed-hosts <hosts>', 'hosts the credential may be sent to (comma-separated)');
}

/** `caracal providers list|get|create|update|set-credentials|delete`. */
export const providersCommand: CommandContribution = {
  name: 'providers',
  register(program: Command, cli: CliContext): void {
    const providers = program.command('providers').description('manage upstream credential providers of a zone (credentials are write-only)');

    withPaging(withZone(adminCommand(providers, 'list', 'list the providers of a zone'))).action(async (opts: ListOptions & ZoneOptions) => {
      const page = await (await adminClient(cli, opts)).providers.list(opts.zone, pageQuery(opts));
      printList(opts, page, ['id', 'name', 'kind', 'credential keys'], (p) => [p.id, p.name, p.kind, cell(p.credential_keys)], `no providers in zone ${opts.zone}`);
    });

    withZone(adminCommand(providers, 'get', 'show a provider (never its credentials)'))
      .argument('<provider>', 'provider ID or name')
      .action(async (ref: string, opts: ZoneOptions) => showProvider(opts, await (await adminClient(cli, opts)).providers.get(opts.zone, ref)));

    withConfigFlags(withZone(adminCommand(providers, 'create', 'create a provider')))
      .argument('<name>', 'provider name')
      .requiredOption('--kind <kind>', KINDS.join(' | '))
      .requiredOption('--credential-file <path>', 'file with the secret material (`-` reads stdin): the bare secret, user:password for basic, or a JSON object')
      .action(async (name: string, opts: ProviderFlags) => {
        const kind = opts.kind as Kind;
        if (!KINDS.includes(kind)) throw new CaracalError('CRC_USAGE', `--kind must be one of ${KINDS.join(', ')}, got "${opts.kind ?? ''}"`);
        const credentials = parseCredentialFile(kind, readInputFile(opts.credentialFile ?? '-', 'credential'));
        const provider = await (await adminClient(cli, opts)).providers.create(opts.zone, { name, kind, config: configFromFlags(opts), credentials });
        showProvider(opts, provider, `created provider ${provider.name}`);
      });

    withConfigFlags(withZone(adminCommand(providers, 'update', 'rename a provider or change its config (given flags replace those keys)')))
      .argument('<provider>', 'provider ID or name')
      .option('--name <name>', 'new name')
      .action(async (ref: string, opts: ProviderFlags) => {
        const changes = configFromFlags(opts);
        const client = await adminClient(cli, opts);
        const current = await client.providers.get(opts.zone, ref);
        // An api-key goes in a header or a query parameter: choosing one drops the other.
        const base: Record<string, unknown> = { ...current.config };
        if ('query' in changes) delete base.header;
        if ('header' in changes && current.kind === 'api-key') delete base.query;
        const patch = {
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(Object.keys(changes).length === 0 ? {} : { config: { ...base, ...changes } }),
        };
        requireChanges(patch, '--name or a config flag');
        showProvider(opts, await client.providers.update(opts.zone, current.id, patch), 'updated provider');
      });

    withZone(adminCommand(providers, 'set-credentials', 'replace the credentials of a provider'))
      .argument('<provider>', 'provider ID or name')
      .requiredOption('--credential-file <path>', 'file with the secret material (`-` reads stdin)')
      .action(async (ref: string, opts: ProviderFlags) => {
        const client = await adminClient(cli, opts);
        const current = await client.providers.get(opts.zone, ref);
        const credentials = parseCredentialFile(current.kind, readInputFile(opts.credentialFile ?? '-', 'credential'));
        showProvider(opts, await client.providers.replaceCredentials(opts.zone, current.id, credentials), 'replaced the credentials');
      });

    withZone(adminCommand(providers, 'delete', 'delete a provider no resource uses'))
      .argument('<provider>', 'provider ID or name')
      .action(async (ref: string, opts: ZoneOptions) => {
        const client = await adminClient(cli, opts);
        const provider = await client.providers.get(opts.zone, ref);
        await client.providers.delete(opts.zone, provider.id);
        printDeleted(opts, 'provider', provider.id);
      });
  },
};
