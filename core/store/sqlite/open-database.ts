import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { CaracalError } from '../../errors.js';
import { knownTables, migrations } from './migrations.js';

/**
 * Opens (creating if needed) a Caracal SQLite database and brings its schema up to date.
 *
 * Order matters: the file is inspected read-only first (is it SQLite? is it Caracal's? is it newer
 * than this code?) and only then switched to WAL and migrated, so a file we refuse is never
 * modified. Pragmas: WAL (readers never block the writer), busy_timeout 5000 ms (several processes
 * share the file), foreign_keys on, synchronous NORMAL (durable across application crashes; in WAL
 * mode only an OS crash can lose the last transactions).
 */
export function openDatabase(file: string): Db {
  const folder = dirname(file);
  ensureFolder(folder);
  const existed = existsSync(file);
  let db: Db | undefined;
  try {
    db = new Database(file);
    if (!existed) {
      // Before WAL: SQLite gives the -wal and -shm files the database file's mode.
      chmodSync(file, 0o600);
      // Before the first write: a new database has 16 KiB pages, which write the ledger's rows and
      // indexes with fewer, fuller pages (+5–10 % appends in bench/ledger). An existing database
      // keeps the size it was made with.
      db.pragma(`page_size = ${PAGE_SIZE}`);
    }
    db.pragma('busy_timeout = 5000');
    inspect(db, file);
    whenNotBusy(() => db?.pragma('journal_mode = WAL'));
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if (!migrate(db, file)) probeWritable(db);
    return db;
  } catch (error) {
    db?.close();
    throw classifyOpenError(error, file);
  }
}

/** The page size of a database this code creates. */
export const PAGE_SIZE = 16_384;

/** How long opening waits for another process switching the same new database to WAL. */
const JOURNAL_MODE_WAIT_MS = 5000;

/**
 * Runs `work`, retrying while SQLite answers SQLITE_BUSY. Setting the journal mode can meet a
 * lock SQLite reports as BUSY without calling the busy handler (switching a new file to WAL takes
 * an exclusive lock; opening a WAL file may wait for another connection's recovery), so two
 * processes opening the same database at once (`caracal up` starts control and gateway together)
 * could fail with "database is locked" (seen once in CI, where two processes shared a ledger).
 */
function whenNotBusy(work: () => void): void {
  const deadline = Date.now() + JOURNAL_MODE_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      work();
      return;
    } catch (error) {
      if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}

/**
 * A database file we may read but not write opens silently read-only, and in WAL mode even
 * BEGIN IMMEDIATE succeeds; find out now rather than at the first write, by rewriting the header's
 * user_version with its own value inside a transaction that is rolled back (nothing reaches disk).
 */
function probeWritable(db: Db): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    db.pragma(`user_version = ${version}`);
  } finally {
    db.exec('ROLLBACK');
  }
}

function ensureFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw readOnly(`The folder ${folder} cannot be created (${code}).`, folder, error);
    }
    throw new CaracalError('CRC_HOME_UNUSABLE', `The folder ${folder} cannot be created (${code ?? String(error)}).`, {
      cause: error,
      hint: 'Choose another home with --home or CARACAL_HOME.',
    });
  }
}

/** Refuses files that are not SQLite, not Caracal's, or from a newer Caracal — without writing. */
function inspect(db: Db, file: string): void {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
    .map((row) => row.name)
    .filter((name) => !name.startsWith('sqlite_'));
  if (tables.length === 0) return;
  if (!tables.includes('schema_migrations')) throw notCaracal(file, tables);
  const version = schemaVersion(db);
  if (version > migrations.length) {
    throw new CaracalError(
      'CRC_STORE_MIGRATION',
      `The database ${file} has schema version ${version}, newer than this Caracal understands ` +
        `(${migrations.length}); it was written by a newer release.`,
      { hint: 'Upgrade Caracal to the release that wrote this database (databases are never migrated backwards).' },
    );
  }
  const unknown = tables.filter((name) => !knownTables.includes(name));
  if (unknown.length > 0) throw notCaracal(file, unknown);
}

function schemaVersion(db: Db): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (exists === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

/** Applies pending migrations in one write transaction; returns whether any ran. */
function migrate(db: Db, file: string): boolean {
  if (schemaVersion(db) === migrations.length) return false;
  const apply = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    // Another process may have migrated between our check and taking the write lock.
    const from = schemaVersion(db);
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (let version = from + 1; version <= migrations.length; version++) {
      try {
        db.exec(migrations[version - 1] ?? '');
      } catch (cause) {
        throw new CaracalError('CRC_STORE_MIGRATION', `Migration ${version} of ${file} failed: ${(cause as Error).message}.`, {
          cause,
          hint: 'The database was left unchanged; report this with the message above.',
        });
      }
      record.run(version, new Date().toISOString());
    }
  });
  apply.immediate();
  return true;
}

function classifyOpenError(error: unknown, file: string): unknown {
  if (error instanceof CaracalError) return error;
  const code = (error as { code?: unknown }).code;
  const text = typeof code === 'string' ? code : '';
  if (text === 'SQLITE_NOTADB' || text.startsWith('SQLITE_CORRUPT')) {
    return new CaracalError('CRC_STORE_CORRUPT', `The file ${file} is not a usable SQLite database (${text}).`, {
      cause: error,
      hint: `Move it aside (mv ${file} ${file}.broken) and Caracal will create a fresh database, or restore it from a backup.`,
    });
  }
  if (text.startsWith('SQLITE_READONLY') || text.startsWith('SQLITE_CANTOPEN') || text === 'SQLITE_PERM') {
    return readOnly(`The database ${file} cannot be written (${text}).`, file, error);
  }
  return new CaracalError('CRC_STORE_OPEN', `The database ${file} cannot be opened: ${(error as Error).message}.`, {
    cause: error,
  });
}

function readOnly(message: string, path: string, cause: unknown): CaracalError {
  return new CaracalError('CRC_STORE_READONLY', message, {
    cause,
    hint:
      `Make the database file and its folder writable by this user (e.g. chown $(id -u) ${path} && chmod u+rw ${path}; ` +
      'folders need u+rwx), or choose another home with --home or CARACAL_HOME.',
  });
}

function notCaracal(file: string, tables: readonly string[]): CaracalError {
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
  return new CaracalError(
    'CRC_STORE_CORRUPT',
    `The file ${file} is an SQLite database but not a Caracal database (it has tables ${shown}); it was left untouched.`,
    { hint: `Point Caracal at another home (--home or CARACAL_HOME), or move the file aside (mv ${file} ${file}.other).` },
  );
}
