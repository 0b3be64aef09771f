import type { Command } from 'commander';
import { CaracalError } from '../../errors.js';
import type { CommandContribution } from '../../plugin/types.js';
import type { CliContext } from '../context.js';

/** `caracal serve <service>`: runs one service (from any plugin's `services`) in the foreground. */
export const serveCommand: CommandContribution = {
  name: 'serve',
  register(program: Command, cli: CliContext) {
    const services = cli.plugins.flatMap((p) => p.services ?? []);
    const serve = program.command('serve').description('run a service in the foreground (what `caracal up` and Docker start)');
    for (const service of services) {
      const command = serve
        .command(service.name)
        .description(service.description)
        .option('--host <host>', 'bind address')
        .option('--port <n>', 'listen port (0 picks a free one)');
      if (service.workers === true) command.option('--workers <n>', 'processes sharing the port, 1 to 64 (default: the settings, else 1)');
      command.action(async (opts: { host?: string; port?: string; workers?: string }) => {
        const port = opts.port === undefined ? undefined : Number(opts.port);
        if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
          throw new CaracalError('CRC_USAGE', `--port must be a whole number from 0 to 65535, got "${opts.port ?? ''}"`);
        }
        await service.run(cli, { host: opts.host, port, workers: opts.workers });
      });
    }
  },
};
