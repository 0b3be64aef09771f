import { mkdirSync } from 'node:fs';
import { createAuditLog, type AuditLog } from './audit/audit-log.js';
import { homePaths, type HomePaths } from './config/paths.js';
import type { Settings } from './config/settings.js';
import { deriveSubkeys, loadMasterKey, type Subkeys } from './crypto/master-key.js';
import { CaracalError } from './errors.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { ledgerSink } from '../plugins/sink-ledger/index.js';

/** What a service process holds open: the store, the installation's keys and the audit log. */
export interface Kernel {
  readonly settings: Settings;
  readonly paths: HomePaths;
  readonly store: Store;
  readonly subkeys: Subkeys;
  readonly audit: AuditLog;
  /** Flushes the audit log, then closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the kernel of a service process: the home (created 0700 when missing), the store, the
 * master key's subkeys and the audit log with the ledger as its primary. A failure closes what
 * was opened and throws one clear error; nothing stored is touched.
 */
export async function openKernel(settings: Settings, onAuditError: (error: CaracalError) => void): Promise<Kernel> {
  const paths = homePaths(settings.home);
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CaracalError('CRC_HOME_UNUSABLE', `cannot create the Caracal home ${paths.home}: ${(error as Error).message}`, {
      cause: error,
      hint: 'choose a writable folder with --home or CARACAL_HOME',
    });
  }
  const store = await openStore({ home: settings.home, databaseUrl: settings.database_url });
  try {
    const subkeys = deriveSubkeys(loadMasterKey(paths));
    const audit = createAuditLog({ recorder: ledgerSink(store), onError: onAuditError });
    return {
      settings,
      paths,
      store,
      subkeys,
      audit,
      async close() {
        await audit.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
