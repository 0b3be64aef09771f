import type { Database as Db, Statement } from 'better-sqlite3';

/** How often the watcher looks at the database (DESIGN.md §3: changes reach every node within a second). */
export const WATCH_INTERVAL_MS = 250;

/**
 * Notices configuration changes made by other connections to the same database file.
 *
 * Every 250 ms (on an unref'd timer, so it never keeps a process alive) it reads
 * `PRAGMA data_version`, which SQLite changes only when ANOTHER connection commits — never for
 * this connection's own writes, which the caller already knows about. Audit appends by other
 * processes move data_version several times a second, so on a change the watcher also reads the
 * `store_changes` counter that triggers bump on every configuration write, and calls listeners
 * only when that moved. (After this connection itself changed configuration, the next foreign
 * commit may cause one extra, harmless notification.)
 */
export class SqliteWatcher {
  readonly #dataVersion: Statement;
  readonly #counter: Statement;
  readonly #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #lastDataVersion = 0;
  #lastCounter = 0;

  constructor(db: Db) {
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#counter = db.prepare('SELECT counter FROM store_changes WHERE id = 1').pluck();
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
    this.#lastCounter = this.#counter.get() as number;
    this.#timer = setInterval(() => this.#poll(), WATCH_INTERVAL_MS);
    this.#timer.unref();
  }

  #poll(): void {
    let changed = false;
    try {
      const dataVersion = this.#dataVersion.get() as number;
      if (dataVersion === this.#lastDataVersion) return;
      this.#lastDataVersion = dataVersion;
      const counter = this.#counter.get() as number;
      changed = counter !== this.#lastCounter;
      this.#lastCounter = counter;
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
