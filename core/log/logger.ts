import { pino, type Logger } from 'pino';

/** Paths pino redacts in every log line, so a secret never reaches a log file. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-caracal-token"]',
  'headers.authorization',
  'authorization',
  'client_secret',
  'secret',
  'token',
  'access_token',
  'password',
  'credentials',
  '*.client_secret',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.password',
  '*.credentials',
  '*.authorization',
];

/** Creates a service logger: JSON lines to a destination (stdout by default), secrets redacted. */
export function createLogger(options: { name: string; level?: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: options.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
