import type { Command } from 'commander';
import type { AppView, AppWithSecret } from '../../../control/admin-client.js';
import { CaracalError } from '../../../errors.js';
import type { CommandContribution } from '../../../plugin/types.js';
import type { CliContext } from '../../context.js';
import {
  adminClient,
  adminCommand,
  pageQuery,
  printDeleted,
  printList,
  printObject,
  printSecret,
  requireChanges,
  withPaging,
  withZone,
  type ListOptions,
  type ZoneOptions,
} from './shared.js';

function showApp(opts: ZoneOptions, app: AppView, title?: string): void {
  printObject(
    opts,
    app,
    [
      ['id', app.id],
      ['name', app.name],
      ['zone', app.zone_id],
      ['description', app.description || '-'],
      ['disabled', app.disabled ? 'yes' : 'no'],
      ['secret rotated', app.secret_rotated_at],
      ['created', app.created_at],
    ],
    title,
  );
}

/** Prints an app with its one-time secret (in the JSON when --json). */
export function showAppWithSecret(opts: ZoneOptions, app: AppWithSecret, title: string): void {
  const { client_secret: secret, ...view } = app;
  if (opts.json === true) {
    showApp(opts, app);
    return;
  }
  showApp(opts, view, title);
  printSecret(secret, `${app.name} (${app.id})`);
}

/** `caracal apps list|get|create|update|delete|rotate-secret|disable|enable`. */
export const appsCommand: CommandContribution = {
  name: 'apps',
  register(program: Command, cli: CliContext): void {
    const apps = program.command('apps').description('manage agent apps (confidential OAuth clients) of a zone');

    withPaging(withZone(adminCommand(apps, 'list', 'list the apps of a zone')))
      .option('--disabled', 'only disabled apps')
      .option('--enabled', 'only enabled apps')
      .action(async (opts: ListOptions & ZoneOptions & { disabled?: boolean; enabled?: boolean }) => {
        if (opts.disabled === true && opts.enabled === true) throw new CaracalError('CRC_USAGE', 'give --disabled or --enabled, not both');
        const filter = opts.disabled === true ? { disabled: true } : opts.enabled === true ? { disabled: false } : {};
        const page = await (await adminClient(cli, opts)).apps.list(opts.zone, { ...pageQuery(opts), ...filter });
        printList(
          opts,
          page,
          ['id', 'name', 'disabled', 'secret rotated', 'description'],
          (a) => [a.id, a.name, a.disabled ? 'yes' : 'no', a.secret_rotated_at, a.description || '-'],
          `no apps in zone ${opts.zone}: create one with \`caracal apps create NAME --zone ${opts.zone}\``,
        );
      });

    withZone(adminCommand(apps, 'get', 'show an app'))
      .argument('<app>', 'app ID or name')
      .action(async (app: string, opts: ZoneOptions) => showApp(opts, await (await adminClient(cli, opts)).apps.get(opts.zone, app)));

    withZone(adminCommand(apps, 'create', 'create an app; its client secret is printed once'))
      .argument('<name>', 'app name')
      .option('--description <text>', 'what the app is')
      .action(async (name: string, opts: ZoneOptions & { description?: string }) => {
        const app = await (await adminClient(cli, opts)).apps.create(opts.zone, { name, ...(opts.description === undefined ? {} : { description: opts.description }) });
        showAppWithSecret(opts, app, `created app ${app.name}`);
      });

    withZone(adminCommand(apps, 'update', 'rename an app or change its description'))
      .argument('<app>', 'app ID or name')
      .option('--name <name>', 'new name')
      .option('--description <text>', 'new description')
      .action(async (ref: string, opts: ZoneOptions & { name?: string; description?: string }) => {
        const patch = {
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.description === undefined ? {} : { description: opts.description }),
        };
        requireChanges(patch, '--name, --description');
        showApp(opts, await (await adminClient(cli, opts)).apps.update(opts.zone, ref, patch), 'updated app');
      });

    withZone(adminCommand(apps, 'delete', 'delete an app (its tokens stop working at their next check)'))
      .argument('<app>', 'app ID or name')
      .action(async (ref: string, opts: ZoneOptions) => {
        const client = await adminClient(cli, opts);
        const app = await client.apps.get(opts.zone, ref);
        await client.apps.delete(opts.zone, app.id);
        printDeleted(opts, 'app', app.id);
      });

    withZone(adminCommand(apps, 'rotate-secret', 'replace the client secret; the new one is printed once'))
      .argument('<app>', 'app ID or name')
      .action(async (ref: string, opts: ZoneOptions) => {
        const app = await (await adminClient(cli, opts)).apps.rotateSecret(opts.zone, ref);
        showAppWithSecret(opts, app, `rotated the secret of app ${app.name}; the previous secret no longer works`);
      });

    for (const [action, text] of [
      ['disable', 'disable an app: it can no longer obtain tokens'],
      ['enable', 'enable a disabled app'],
    ] as const) {
      withZone(adminCommand(apps, action, text))
        .argument('<app>', 'app ID or name')
        .action(async (ref: string, opts: ZoneOptions) => {
          const client = await adminClient(cli, opts);
          const app = action === 'disable' ? await client.apps.disable(opts.zone, ref) : await client.apps.enable(opts.zone, ref);
          showApp(opts, app, `${action}d app ${app.name}`);
        });
    }
  },
};
