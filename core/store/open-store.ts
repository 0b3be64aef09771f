import { homePaths, defaultHome } from '../config/paths.js';
import { CaracalError } from '../errors.js';
import { SqliteStore, type BackgroundCheckpoints } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** CARACAL_HOME; the platform default when absent. */
  readonly home?: string;
  /** `postgres://…` for the scale-out store, or `sqlite:<path>` for a database file elsewhere. */
  readonly databaseUrl?: string;
  /**
   * For long-running processes that append much (the control plane, the Gateway's audit writer):
   * checkpoint SQLite's WAL from a thread of its own rather than in the appending thread, and
   * report there if that thread fails (appends then checkpoint themselves, as by default).
   */
  readonly backgroundCheckpoints?: BackgroundCheckpoints;
}

/**
 * Opens the configured Store (DESIGN.md §3): the embedded SQLite database in the home folder,
 * another SQLite file (`sqlite:<path>`), or PostgreSQL (`postgres://`). This is the one place
 * that chooses the implementation.
 */
export function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  try {
    const url = options.databaseUrl?.trim() ?? '';
    const sqlite = options.backgroundCheckpoints === undefined ? {} : { backgroundCheckpoints: options.backgroundCheckpoints };
    if (url === '') return Promise.resolve(SqliteStore.open(homePaths(options.home ?? defaultHome()).database, sqlite));
    if (/^postgres(ql)?:\/\//i.test(url)) {
      throw new CaracalError('CRC_CONFIG_INVALID', 'The PostgreSQL store is not built yet; this release stores data in SQLite only.', {
        hint: 'Unset CARACAL_DATABASE_URL (or the database URL setting) to use the embedded SQLite database.',
      });
    }
    if (url.startsWith('sqlite:')) {
      const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      if (file === '') throw invalidUrl();
      return Promise.resolve(SqliteStore.open(file, sqlite));
    }
    throw invalidUrl();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function invalidUrl(): CaracalError {
  // The URL may carry a password: describe the accepted forms, do not echo it.
  return new CaracalError('CRC_CONFIG_INVALID', 'The database URL is not one Caracal understands.', {
    hint: 'Use postgres://user@host:5432/db, sqlite:/path/to/caracal.db, or leave it unset for the embedded database.',
  });
}
