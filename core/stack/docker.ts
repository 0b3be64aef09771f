import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { CaracalError } from '../errors.js';

/** The compose file shipped with Caracal. */
export const COMPOSE_FILE = fileURLToPath(new URL('../../../docker/compose.yaml', import.meta.url));

/**
 * `caracal up --docker` / `down --docker`: drives docker compose with the shipped compose file.
 * Where no Docker engine answers, says so and points to the embedded default.
 */
export async function dockerCompose(action: 'up' | 'down'): Promise<void> {
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 10_000 });
  if (info.exitCode !== 0) {
    const why = info.failed && (info as { code?: string }).code === 'ENOENT' ? 'the docker command is not installed' : 'no Docker engine answers';
    throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `cannot ${action} the Docker stack: ${why}`, {
      hint: action === 'up' ? 'run the embedded stack instead: caracal up (no Docker needed)' : 'stop the embedded stack with caracal down',
    });
  }
  const args = action === 'up' ? ['compose', '-f', COMPOSE_FILE, 'up', '-d', '--build', '--wait'] : ['compose', '-f', COMPOSE_FILE, 'down'];
  const result = await execa('docker', args, { reject: false, stdio: 'inherit' });
  if (result.exitCode !== 0) throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `docker compose ${action} failed (exit ${String(result.exitCode)})`);
}
