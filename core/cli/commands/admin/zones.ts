import type { Command } from 'commander';
import type { ZoneInput, ZoneView } from '../../../control/admin-client.js';
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
  requireChanges,
  splitList,
  withPaging,
  type AdminOptions,
  type ListOptions,
} from './shared.js';

interface ZoneFlags extends AdminOptions {
  readonly name?: string;
  readonly kind?: string;
  readonly description?: string;
  readonly allowedPrivateHosts?: string;
}

function zoneKind(kind: string | undefined): ZoneInput['kind'] {
  if (kind === undefined || kind === 'evaluation' || kind === 'production') return kind;
  throw new CaracalError('CRC_USAGE', `--kind must be evaluation or production, got "${kind}"`);
}

function showZone(opts: AdminOptions, zone: ZoneView, title?: string): void {
  printObject(
    opts,
    zone,
    [
      ['id', zone.id],
      ['name', zone.name],
      ['kind', zone.kind],
      ['description', zone.description || '-'],
      ['allowed private hosts', cell(zone.allowed_private_hosts)],
      ['created', zone.created_at],
    ],
    title,
  );
}

/** `caracal zones list|get|create|update|delete`. */
export const zonesCommand: CommandContribution = {
  name: 'zones',
  register(program: Command, cli: CliContext): void {
    const zones = program.command('zones').description('manage zones (trust boundaries with their own keys, apps, resources and policies)');

    withPaging(adminCommand(zones, 'list', 'list zones')).action(async (opts: ListOptions) => {
      const page = await (await adminClient(cli, opts)).zones.list(pageQuery(opts));
      printList(opts, page, ['id', 'name', 'kind', 'description'], (z) => [z.id, z.name, z.kind, z.description || '-'], 'no zones yet: create one with `caracal zones create NAME`');
    });

    adminCommand(zones, 'get', 'show a zone')
      .argument('<zone>', 'zone ID or name')
      .action(async (zone: string, opts: AdminOptions) => showZone(opts, await (await adminClient(cli, opts)).zones.get(zone)));

    adminCommand(zones, 'create', 'create a zone')
      .argument('<name>', 'zone name (lowercase letters, digits, ".", "_", "-")')
      .option('--kind <kind>', 'evaluation (loopback and private upstreams allowed) or production', 'evaluation')
      .option('--description <text>', 'what the zone is for')
      .option('--allowed-private-hosts <hosts>', 'production only: private hosts or CIDRs upstreams may still use (comma-separated)')
      .action(async (name: string, opts: ZoneFlags) => {
        const kind = zoneKind(opts.kind);
        const zone = await (await adminClient(cli, opts)).zones.create({
          name,
          ...(kind === undefined ? {} : { kind }),
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(opts.allowedPrivateHosts === undefined ? {} : { allowed_private_hosts: splitList(opts.allowedPrivateHosts) }),
        });
        showZone(opts, zone, `created zone ${zone.name}`);
      });

    adminCommand(zones, 'update', 'change a zone')
      .argument('<zone>', 'zone ID or name')
      .option('--name <name>', 'new name')
      .option('--kind <kind>', 'evaluation or production')
      .option('--description <text>', 'new description')
      .option('--allowed-private-hosts <hosts>', 'replace the allowed private hosts (comma-separated; "" for none)')
      .action(async (ref: string, opts: ZoneFlags) => {
        const kind = zoneKind(opts.kind);
        const patch: Partial<ZoneInput> = {
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(kind === undefined ? {} : { kind }),
          ...(opts.description === undefined ? {} : { description: opts.description }),
          ...(opts.allowedPrivateHosts === undefined ? {} : { allowed_private_hosts: splitList(opts.allowedPrivateHosts) }),
        };
        requireChanges(patch, '--name, --kind, --description, --allowed-private-hosts');
        showZone(opts, await (await adminClient(cli, opts)).zones.update(ref, patch), 'updated zone');
      });

    adminCommand(zones, 'delete', 'delete a zone and everything configured in it (its audit events stay)')
      .argument('<zone>', 'zone ID or name')
      .option('--yes', 'confirm: apps, resources, providers, policies and keys of the zone are deleted too')
      .action(async (ref: string, opts: AdminOptions & { yes?: boolean }) => {
        if (opts.yes !== true) {
          throw new CaracalError('CRC_USAGE', `deleting zone ${ref} deletes its apps, resources, providers, policies and keys`, {
            hint: `run again with --yes to confirm: caracal zones delete ${ref} --yes`,
          });
        }
        const client = await adminClient(cli, opts);
        const zone = await client.zones.get(ref);
        await client.zones.delete(zone.id);
        printDeleted(opts, 'zone', zone.id);
      });
  },
};
