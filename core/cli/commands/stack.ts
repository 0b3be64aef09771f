import type { Command } from 'commander';
import { defaultConfigDir } from '../../config/paths.js';
import { CaracalError, ExitCode } from '../../errors.js';
import type { CommandContribution } from '../../plugin/types.js';
import type { CliContext } from '../context.js';
import { canColor, formatTable, painter, printJson } from '../output.js';

type PortFlags = { controlPort?: string; gatewayPort?: string; docker?: boolean };

/** `caracal up`, `status`, `down`, `purge`, `logs`, `demo-upstream` (DESIGN.md §2, §2a). */
export const stackCommands: readonly CommandContribution[] = [
  {
    name: 'up',
    register(program: Command, cli: CliContext) {
      program
        .command('up')
        .description('start the control plane and the Gateway in the background and wait until both are ready')
        .option('--control-port <n>', 'control-plane port (env CARACAL_CONTROL_PORT; default 4700)')
        .option('--gateway-port <n>', 'Gateway port (env CARACAL_GATEWAY_PORT; default 4701)')
        .option('--docker', 'start the stack with docker compose (docker/compose.yaml) instead')
        .action(async (opts: PortFlags) => {
          if (opts.docker) return (await import('../../stack/docker.js')).dockerCompose('up');
          const settings = cli.settings({ controlPort: opts.controlPort, gatewayPort: opts.gatewayPort });
          for (const [name, port] of [['control', settings.control.port], ['gateway', settings.gateway.port]] as const) {
            if (port === 0) throw new CaracalError('CRC_USAGE', `caracal up needs a fixed ${name} port, not 0`, { hint: `pass --${name}-port N` });
          }
          const { up } = await import('../../stack/up.js');
          const paint = painter(canColor(process.stderr));
          await up(settings, (event) => {
            const line =
              event.state === 'running' ? `${paint('green', '●')} ${event.service} already running at ${event.url} (pid ${event.pid})`
              : event.state === 'starting' ? `${paint('yellow', '○')} ${event.service} starting at ${event.url} (pid ${event.pid}, log ${event.log})`
              : event.state === 'stale' ? `${paint('gray', '·')} ${event.service}: removed the stale run file of pid ${event.pid}`
              : `${paint('green', '●')} ${event.service} ready at ${event.url} (${event.ms} ms)`;
            process.stderr.write(`${line}\n`);
          });
          process.stderr.write(`stack ready; next: caracal demo-upstream --detach, then caracal console (or caracal setup)\n`);
        });
    },
  },
  {
    name: 'status',
    register(program, cli) {
      program
        .command('status')
        .description('show whether each service is healthy (or ready, with --ready); exit 0 only when the stack\'s are (a detached demo upstream is shown too)')
        .option('--ready', 'probe readiness (/readyz) instead of liveness (/healthz)')
        .option('--json', 'print {"mode","services":[{"name","url","ok","detail","optional"}]}')
        .action(async (opts: { ready?: boolean; json?: boolean }) => {
          const { stackStatus, pluginFailures, tableDetail } = await import('../../stack/status.js');
          const [status, plugins] = await Promise.all([stackStatus(cli.settings(), opts.ready ? 'ready' : 'health'), pluginFailures(cli.settings().home, cli.builtins)]);
          if (opts.json) {
            printJson({ mode: status.mode, services: status.services.map(({ name, url, ok, detail, optional }) => ({ name, url, ok, detail, optional })), plugin_failures: plugins });
          } else {
            const paint = painter(canColor());
            const rows = status.services.map((s) => [s.name, s.url, s.ok ? paint('green', status.mode === 'ready' ? 'ready' : 'healthy') : paint('red', 'down'), tableDetail(s, status.mode)]);
            process.stdout.write(`${formatTable(['service', 'address', 'state', 'detail'], rows)}\n`);
            for (const p of plugins) process.stdout.write(`${paint('yellow', 'plugin disabled')}: ${p.name}: ${p.error}\n`);
          }
          process.exitCode = status.services.every((s) => s.ok || s.optional) ? ExitCode.ok : ExitCode.failure;
        });
    },
  },
  {
    name: 'down',
    register(program, cli) {
      program
        .command('down')
        .description('stop the stack gracefully (audit flushed); data is kept')
        .option('--docker', 'stop the docker compose stack instead')
        .action(async (opts: { docker?: boolean }) => {
          if (opts.docker) return (await import('../../stack/docker.js')).dockerCompose('down');
          const { down } = await import('../../stack/down.js');
          const outcomes = await down(cli.settings().home);
          if (outcomes.length === 0) process.stderr.write('nothing to stop: no service started by caracal up is running\n');
          for (const o of outcomes) process.stderr.write(`${o.service} (pid ${o.pid}): ${o.result}\n`);
        });
    },
  },
  {
    name: 'purge',
    register(program, cli) {
      program
        .command('purge')
        .description('stop the stack and delete its database, keys, logs, plugins, profiles and secret files')
        .option('--yes', 'do not ask for confirmation')
        .option('--dry-run', 'only list what would be deleted')
        .action(async (opts: { yes?: boolean; dryRun?: boolean }) => {
          const { purge, purgePlan } = await import('../../stack/purge.js');
          const home = cli.settings().home;
          const configDir = defaultConfigDir();
          const plan = purgePlan(home, configDir);
          if (plan.length === 0) {
            process.stderr.write(`nothing to purge in ${home} or ${configDir}\n`);
            return;
          }
          process.stderr.write(`caracal purge will delete:\n${plan.map((p) => `  ${p}`).join('\n')}\n`);
          if (opts.dryRun) return;
          if (!opts.yes) {
            if (!process.stdin.isTTY) throw new CaracalError('CRC_USAGE', 'purge needs confirmation', { hint: 'pass --yes to confirm without a terminal' });
            const { createInterface } = await import('node:readline/promises');
            const rl = createInterface({ input: process.stdin, output: process.stderr });
            const answer = await rl.question('delete all of this? type "yes": ');
            rl.close();
            if (answer.trim() !== 'yes') throw new CaracalError('CRC_USAGE', 'purge cancelled; nothing was deleted');
          }
          const { down } = await import('../../stack/down.js');
          for (const o of await down(home)) process.stderr.write(`stopped ${o.service} (pid ${o.pid}): ${o.result}\n`);
          const kept = purge(home, configDir);
          for (const dir of kept) process.stderr.write(`kept ${dir}: it holds files that are not Caracal's\n`);
          process.stderr.write('purged\n');
        });
    },
  },
  {
    name: 'logs',
    register(program, cli) {
      program
        .command('logs [service]')
        .description('show the service logs (control, gateway, demo-upstream); pretty on a terminal')
        .option('-f, --follow', 'keep printing new lines')
        .action(async (service: string | undefined, opts: { follow?: boolean }) => {
          const { showLogs } = await import('../../stack/show-logs.js');
          await showLogs(cli.paths().logs, service, opts.follow === true);
        });
    },
  },
  {
    name: 'demo-upstream',
    register(program, cli) {
      program
        .command('demo-upstream')
        .description('run the built-in demo HTTP service (echoes requests; /status/<code>, /slow/<ms>)')
        .option('--port <n>', 'listen port', '4780')
        .option('--host <host>', 'bind address', '127.0.0.1')
        .option('--detach', 'run in the background (stopped by caracal down)')
        .action(async (opts: { port: string; host: string; detach?: boolean }) => {
          const port = Number(opts.port);
          if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CaracalError('CRC_USAGE', `--port must be 0–65535, got "${opts.port}"`);
          const { runDemoUpstream } = await import('../../stack/run-demo-upstream.js');
          await runDemoUpstream(cli.paths(), opts.host, port, opts.detach === true);
        });
    },
  },
];
