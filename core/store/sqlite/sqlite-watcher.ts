import type { Database as Db, Statement } from 'better-sqlite3';
import { WATCHED_TABLES } from './migrations.js';

/** How often the watcher looks at the database (DESIGN.md §3: changes reach every node within a second). */
export const WATCH_INTERVAL_MS = 250;

/**
 * Notices configuration changes made by other connections to the same database file.
 *
 * Every 250 ms (on an unref'd timer, so it never keeps a process alive) it reads
 * `PRAGMA data_version`, which SQLite changes only when ANOTHER connection commits — never for
 * this connection's own writes, which the caller already knows about. Audit appends by other
 * processes move data_version several times a second, so on a change the watcher also reads the
 * `store_changes` counter that triggers bump on every configuration write. Temporary triggers
 * (which fire for this connection only) count this connection's own configuration writes, so the
 * difference is exactly the other connections' share: listeners run only when that moved.
 */
export class SqliteWatcher {
  readonly #dataVersion: Statement;
  readonly #foreign: Statement;
  readonly #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #lastDataVersion = 0;
  #lastForeign = 0;

  constructor(db: Db) {
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    countOwnChanges(db);
    this.#foreign = db
      .prepare('SELECT (SELECT counter FROM main.store_changes) - (SELECT counter FROM temp.own_changes)')
      .pluck();
  }

  /** Adds a listener; returns the function that removes it. */
  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  /** Stops polling and forgets every listener. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  #start(): void {
    this.#lastDataVersion = this.#dataVersion.get() as number;
    this.#lastForeign = this.#foreign.get() as number;
    this.#timer = setInterval(() => this.#poll(), WATCH_INTERVAL_MS);
    this.#timer.unref();
  }

  #poll(): void {
    let changed = false;
    try {
      const dataVersion = this.#dataVersion.get() as number;
      if (dataVersion === this.#lastDataVersion) return;
      this.#lastDataVersion = dataVersion;
      const foreign = this.#foreign.get() as number;
      changed = foreign !== this.#lastForeign;
      this.#lastForeign = foreign;
    } catch {
      // Locked or closing: look again at the next tick.
      return;
    }
    if (!changed) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (error) {
        // A failing listener must not stop the others or the polling; say so and carry on.
        process.emitWarning(`A store watch listener failed: ${(error as Error).message}`, 'CaracalStoreWatch');
      }
    }
  }
}

/** Temporary triggers counting this connection's own configuration writes in temp.own_changes. */
function countOwnChanges(db: Db): void {
  const triggers = WATCHED_TABLES.flatMap((table) =>
    (['INSERT', 'UPDATE', 'DELETE'] as const).map(
      (op) =>
        `CREATE TEMP TRIGGER IF NOT EXISTS own_${table}_${op.toLowerCase()} AFTER ${op} ON ${table}
         BEGIN UPDATE temp.own_changes SET counter = counter + 1 WHERE id = 1; END;`,
    ),
  );
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS own_changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter INTEGER NOT NULL);
    INSERT OR IGNORE INTO temp.own_changes (id, counter) VALUES (1, 0);
    ${triggers.join('\n')}`);
}
