import { isAlive, readRunFile } from '../stack/run-files.js';
import { homePaths } from './paths.js';
import { controlUrl, gatewayUrl, type Settings } from './settings.js';

/**
 * Where a client (admin commands, `setup`, `console`, `audit`, `explain`) reaches a service of the
 * stack. The first of: the command's own flag (`--control-url`, `--gateway-url`); an explicit URL
 * in the settings (`CARACAL_CONTROL_URL`/`CARACAL_GATEWAY_URL`, then `control_url`/`gateway_url` in
 * config.toml); the address the running service recorded in the home's run file (the one
 * `caracal status` probes, so a stack started with `up --control-port N` is found without telling
 * every client); the configured host and port (`CARACAL_CONTROL_PORT`, config.toml); the default.
 * A run file whose process is gone is ignored: a crashed stack must not pin clients to its old port.
 * Trailing slashes are dropped, so callers append paths as they are.
 */
export function clientUrl(settings: Settings, service: 'control' | 'gateway', flag?: string): string {
  return lookUp(settings, service, flag).replace(/\/+$/, '');
}

/** The lookup of {@link clientUrl}, before trailing slashes are dropped (callers append paths). */
function lookUp(settings: Settings, service: 'control' | 'gateway', flag: string | undefined): string {
  const explicit = flag ?? (service === 'control' ? settings.control_url : settings.gateway_url);
  if (explicit !== undefined) return explicit;
  const run = readRunFile(homePaths(settings.home).run, service);
  if (run !== undefined && isAlive(run.pid)) return run.url;
  return service === 'control' ? controlUrl(settings) : gatewayUrl(settings);
}

/** `--control-url`'s help, in every command that takes it (it names the lookup order above). */
export const CONTROL_URL_HELP = 'control plane URL (default: CARACAL_CONTROL_URL, config.toml, the running stack in CARACAL_HOME, else the control port; 4700)';

/** `--gateway-url`'s help. */
export const GATEWAY_URL_HELP = 'Gateway URL written into the profile (default: CARACAL_GATEWAY_URL, config.toml, the running stack in CARACAL_HOME, else the gateway port; 4701)';
