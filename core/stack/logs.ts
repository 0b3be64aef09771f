import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** Formats one pino JSON line for a person: `time level service message key=value…`. */
export function prettyLine(line: string, color: (c: 'red' | 'yellow' | 'gray' | 'cyan', t: string) => string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, msg, service, name: _name, pid: _pid, hostname: _host, ...rest } = record;
  const levelName = typeof level === 'number' ? (LEVELS[level] ?? String(level)) : text(level);
  const painted = levelName === 'error' || levelName === 'fatal' ? color('red', levelName) : levelName === 'warn' ? color('yellow', levelName) : color('gray', levelName);
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  return `${color('gray', clock)} ${painted.padEnd(5)} ${color('cyan', text(service))} ${text(msg)}${extras ? ` ${color('gray', extras)}` : ''}`;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Reads a file from a byte offset; returns the complete lines and the offset after them. */
export function readLinesFrom(file: string, offset: number): { lines: string[]; next: number } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { lines: [], next: offset };
  }
  if (size < offset) offset = 0; // the file was truncated or replaced: start over
  if (size === offset) return { lines: [], next: offset };
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    const text = buffer.toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end === -1) return { lines: [], next: offset };
    return { lines: text.slice(0, end).split('\n'), next: offset + Buffer.byteLength(text.slice(0, end + 1)) };
  } finally {
    closeSync(fd);
  }
}
