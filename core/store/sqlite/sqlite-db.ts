import type { Database as Db, Statement } from 'better-sqlite3';
import type { ListOptions, Page, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { decodeCursor, pageLimit, toPage } from './paging.js';
import { toZone } from './rows.js';
import type { ZoneRow } from './rows.js';
import { toStoreError, uniqueViolationField } from './sqlite-errors.js';

/**
 * One open SQLite connection and the few idioms every part of the SQLite store shares: settled
 * promises with catalog errors, BEGIN IMMEDIATE transactions, cached statements, uniqueness
 * failures as CRC_CONFLICT, cursor pages, lookups by ID or name.
 */
export class SqliteDb {
  readonly raw: Db;
  readonly location: string;
  #closed = false;
  readonly #statements = new Map<string, Statement>();

  constructor(raw: Db, location: string) {
    this.raw = raw;
    this.location = location;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.raw.close();
  }

  /** Runs synchronous work as a settled promise, mapping SQLite failures to catalog errors. */
  run<T>(work: () => T): Promise<T> {
    try {
      if (this.#closed) throw closedError(this.location);
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toStoreError(error, this.location));
    }
  }

  /** Like run, inside one BEGIN IMMEDIATE transaction (reads then writes, safe across processes). */
  write<T>(work: () => T): Promise<T> {
    return this.run(() => this.raw.transaction(work).immediate());
  }

  /** A prepared statement, prepared once per connection. */
  sql(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.raw.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a write, turning a uniqueness failure into CRC_CONFLICT with the message for its field. */
  unique<T>(write: () => T, messages: Readonly<Record<string, string>>): T {
    try {
      return write();
    } catch (error) {
      const field = uniqueViolationField(error);
      if (field === undefined) throw error;
      throw new CaracalError('CRC_CONFLICT', messages[field] ?? `The ${field} is already taken.`, {
        cause: error,
        details: { field },
      });
    }
  }

  /** Runs a DELETE; CRC_NOT_FOUND naming `subject` when it removed nothing. */
  remove(sql: string, params: readonly unknown[], subject: string): void {
    if (this.sql(sql).run(...params).changes === 0) throw notFound(subject);
  }

  /** One page of `sqlPrefix … id > cursor ORDER BY id`. */
  list<R extends { id: string }, T>(
    sqlPrefix: string,
    params: readonly unknown[],
    options: ListOptions,
    map: (row: R) => T,
  ): Page<T> {
    const limit = pageLimit(options.limit);
    const after = options.cursor === undefined ? '' : decodeCursor(options.cursor);
    const rows = this.sql(`${sqlPrefix} id > ? ORDER BY id LIMIT ?`).all(...params, after, limit + 1) as R[];
    return toPage(rows, limit, (row) => row.id, map);
  }

  /** A zone-scoped row by ID, else by name. */
  byRef<R>(table: 'apps' | 'providers' | 'policies' | 'policy_sets', zoneId: string, ref: string): R | undefined {
    return (this.sql(`SELECT * FROM ${table} WHERE zone_id = ? AND id = ?`).get(zoneId, ref) ??
      this.sql(`SELECT * FROM ${table} WHERE zone_id = ? AND name = ?`).get(zoneId, ref)) as R | undefined;
  }

  /** The zone, or CRC_NOT_FOUND. */
  requireZone(id: string): Zone {
    const row = this.sql('SELECT * FROM zones WHERE id = ?').get(id) as ZoneRow | undefined;
    if (row === undefined) throw notFound(`Zone ${id}`);
    return toZone(row);
  }
}

/** The current instant as the store writes it. */
export function now(): string {
  return new Date().toISOString();
}

/** CRC_NOT_FOUND for a subject such as "App app_…". */
export function notFound(subject: string): CaracalError {
  return new CaracalError('CRC_NOT_FOUND', `${subject} was not found.`);
}

/** The error for any call after close(). */
export function closedError(location: string): CaracalError {
  return new CaracalError('CRC_SERVICE_UNAVAILABLE', `The store ${location} is closed.`);
}
