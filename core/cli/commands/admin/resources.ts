import type { Command } from 'commander';
import type { ResourcePatchInput, ResourceView } from '../../../control/admin-client.js';
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
  requireChanges,
  splitList,
  withPaging,
  withZone,
  type ListOptions,
  type ZoneOptions,
} from './shared.js';

interface ResourceFlags extends ZoneOptions {
  readonly name?: string;
  readonly description?: string;
  readonly scopes?: string;
  readonly upstream?: string;
  /** A provider ref, or false from `--no-provider`. */
  readonly provider?: string | false;
}

function showResource(opts: ZoneOptions, resource: ResourceView, title?: string): void {
  printObject(
    opts,
    resource,
    [
      ['id', resource.id],
      ['name', resource.name],
      ['zone', resource.zone_id],
      ['description', resource.description || '-'],
      ['scopes', cell(resource.scopes)],
      ['upstream', resource.upstream_url],
      ['provider', resource.provider_id ?? '-'],
      ['created', resource.created_at],
    ],
    title,
  );
}

/** `caracal resources list|get|create|update|delete`. */
export const resourcesCommand: CommandContribution = {
  name: 'resources',
  register(program: Command, cli: CliContext): void {
    const resources = program.command('resources').description('manage protected resources (stable IDs, scopes, upstream URLs) of a zone');

    withPaging(withZone(adminCommand(resources, 'list', 'list the resources of a zone'))).action(async (opts: ListOptions & ZoneOptions) => {
      const page = await (await adminClient(cli, opts)).resources.list(opts.zone, pageQuery(opts));
      printList(
        opts,
        page,
        ['id', 'scopes', 'upstream', 'provider'],
        (r) => [r.id, cell(r.scopes), r.upstream_url, r.provider_id ?? '-'],
        `no resources in zone ${opts.zone}: create one with \`caracal resources create ID --scopes a,b --upstream URL --zone ${opts.zone}\``,
      );
    });

    withZone(adminCommand(resources, 'get', 'show a resource'))
      .argument('<resource>', 'resource ID (resource://slug) or slug')
      .action(async (ref: string, opts: ZoneOptions) => showResource(opts, await (await adminClient(cli, opts)).resources.get(opts.zone, ref)));

    withZone(adminCommand(resources, 'create', 'create a resource'))
      .argument('<id>', 'resource ID (resource://slug) or slug, chosen once and stable')
      .requiredOption('--scopes <scopes>', 'the scopes it knows (comma-separated, e.g. billing:read,billing:write)')
      .requiredOption('--upstream <url>', 'base URL the Gateway forwards to (http or https)')
      .option('--name <name>', 'display name (default: the slug)')
      .option('--description <text>', 'what it is')
      .option('--provider <provider>', 'provider (ID or name) whose credential the Gateway injects')
      .action(async (id: string, opts: ResourceFlags) => {
        const resource = await (await adminClient(cli, opts)).resources.create(opts.zone, {
          id,
          scopes: splitList(opts.scopes ?? ''),
          upstream_url: opts.upstream ?? '',
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(typeof opts.provider === 'string' ? { provider: opts.provider } : {}),
        });
        showResource(opts, resource, `created resource ${resource.id}`);
      });

    withZone(adminCommand(resources, 'update', 'change a resource (its ID stays)'))
      .argument('<resource>', 'resource ID or slug')
      .option('--scopes <scopes>', 'replace the scopes (comma-separated)')
      .option('--upstream <url>', 'new upstream base URL')
      .option('--name <name>', 'new display name')
      .option('--description <text>', 'new description')
      .option('--provider <provider>', 'use this provider (ID or name)')
      .option('--no-provider', 'use no provider')
      .action(async (ref: string, opts: ResourceFlags) => {
        const patch: ResourcePatchInput = {
          ...(opts.scopes === undefined ? {} : { scopes: splitList(opts.scopes) }),
          ...(opts.upstream === undefined ? {} : { upstream_url: opts.upstream }),
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(opts.provider === undefined ? {} : { provider: opts.provider === false ? null : opts.provider }),
        };
        requireChanges(patch, '--scopes, --upstream, --name, --description, --provider, --no-provider');
        showResource(opts, await (await adminClient(cli, opts)).resources.update(opts.zone, ref, patch), 'updated resource');
      });

    withZone(adminCommand(resources, 'delete', 'delete a resource'))
      .argument('<resource>', 'resource ID or slug')
      .action(async (ref: string, opts: ZoneOptions) => {
        const client = await adminClient(cli, opts);
        const resource = await client.resources.get(opts.zone, ref);
        await client.resources.delete(opts.zone, resource.id);
        printDeleted(opts, 'resource', resource.id);
      });
  },
};
