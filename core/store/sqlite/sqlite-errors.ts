import { CaracalError } from '../../errors.js';

interface SqliteFailure {
  readonly code: string;
  readonly message: string;
}

function isSqliteFailure(error: unknown): error is SqliteFailure {
  return (
    error instanceof Error &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as unknown as { code: string }).code.startsWith('SQLITE_')
  );
}

/** The column a UNIQUE/PRIMARY KEY failure is about: the last one SQLite names (`apps.zone_id, apps.name` → `name`). */
export function uniqueViolationField(error: unknown): string | undefined {
  if (!isSqliteFailure(error)) return undefined;
  if (error.code !== 'SQLITE_CONSTRAINT_UNIQUE' && error.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return undefined;
  const columns = /constraint failed: (.+)$/.exec(error.message)?.[1]?.split(',') ?? [];
  const last = columns[columns.length - 1]?.trim() ?? '';
  return last.slice(last.indexOf('.') + 1) || 'id';
}

/** Whether an error is a foreign key violation. */
export function isForeignKeyViolation(error: unknown): boolean {
  return isSqliteFailure(error) && error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Maps low-level SQLite failures met while serving a call to catalog errors. */
export function toStoreError(error: unknown, location: string): Error {
  if (!isSqliteFailure(error)) return error instanceof Error ? error : new CaracalError('CRC_INTERNAL', String(error));
  if (error.code.startsWith('SQLITE_READONLY')) {
    return new CaracalError('CRC_STORE_READONLY', `The database ${location} has become read-only (${error.code}).`, {
      cause: error,
      hint: 'Make the database file and its folder writable by this user, then restart.',
    });
  }
  if (error.code === 'SQLITE_BUSY' || error.code.startsWith('SQLITE_BUSY_')) {
    return new CaracalError('CRC_SERVICE_UNAVAILABLE', `The database ${location} stayed locked by another process for 5 s.`, {
      cause: error,
      hint: 'Retry; if it persists, look for a stuck process holding the database open.',
    });
  }
  if (error.code === 'SQLITE_NOTADB' || error.code.startsWith('SQLITE_CORRUPT')) {
    return new CaracalError('CRC_STORE_CORRUPT', `The database ${location} is damaged (${error.code}).`, {
      cause: error,
      hint: 'Stop Caracal, move the file aside and restore it from a backup.',
    });
  }
  return new CaracalError('CRC_INTERNAL', `The database ${location} failed: ${error.message}`, { cause: error });
}
