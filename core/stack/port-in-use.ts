import { connect } from 'node:net';
import { CaracalError } from '../errors.js';

/** Whether something already accepts connections on host:port (a wildcard bind is probed on loopback). */
export function isPortInUse(host: string, port: number): Promise<boolean> {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: target, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The one error for a busy port (`up` and `demo-upstream`): the port, who wanted it, and how to pick another. */
export function portInUseError(port: number, subject: string, fix: string, cause?: unknown): CaracalError {
  return new CaracalError('CRC_CONFLICT', `port ${port} (${subject}) is already in use by another program`, { hint: `pick another port: ${fix}`, cause });
}
