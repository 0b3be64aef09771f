import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canColor, painter } from '../cli/output.js';
import { CaracalError } from '../errors.js';
import { prettyLine, readLinesFrom } from './logs.js';

/** Prints one service's log (or all, each line prefixed), then follows it with `-f`. */
export async function showLogs(logDir: string, service: string | undefined, follow: boolean): Promise<void> {
  let available: string[];
  try {
    available = readdirSync(logDir).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4)).sort();
  } catch {
    available = [];
  }
  if (service !== undefined && !available.includes(service)) {
    throw new CaracalError('CRC_NOT_FOUND', `no log for "${service}" in ${logDir}`, {
      hint: available.length > 0 ? `logs exist for: ${available.join(', ')}` : 'start the stack with caracal up first',
    });
  }
  const names = service === undefined ? available : [service];
  const pretty = process.stdout.isTTY === true;
  const paint = painter(canColor());
  const offsets = new Map(names.map((n) => [n, 0]));
  const print = () => {
    for (const name of names) {
      const { lines, next } = readLinesFrom(join(logDir, `${name}.log`), offsets.get(name) ?? 0);
      offsets.set(name, next);
      for (const line of lines) {
        const text = pretty ? prettyLine(line, paint) : line;
        process.stdout.write(names.length > 1 && pretty ? `${paint('gray', name.padEnd(8))} ${text}\n` : `${text}\n`);
      }
    }
  };
  print();
  if (!follow) return;
  await new Promise<void>((resolve) => {
    const timer = setInterval(print, 250);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
