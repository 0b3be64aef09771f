import { mkdirSync } from 'node:fs';
import type { AuditLog } from './audit/audit-log.js';
import type { AuditSigningKey } from './audit/checkpoint-key.js';
import { openServiceAudit, type SinkStatus } from './audit/service-audit.js';
import { homePaths, type HomePaths } from './config/paths.js';
import type { Settings } from './config/settings.js';
import { deriveSubkeys, loadMasterKey, type Subkeys } from './crypto/master-key.js';
import { CaracalError } from './errors.js';
import type { SinkContribution } from './plugin/types.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

/** What a service process holds open: the store, the installation's keys and the audit log. */
export interface Kernel {
  readonly settings: Settings;
  readonly paths: HomePaths;
  readonly store: Store;
  readonly subkeys: Subkeys;
  readonly audit: AuditLog;
  /** The configured audit sinks' status (DESIGN.md §7: reported in /readyz and `caracal status`). */
  auditSinks(): SinkStatus[];
  /** The installation's Ed25519 audit key (signs checkpoints and export heads). */
  readonly auditKey: AuditSigningKey;
  /** Flushes the audit log, then closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the kernel of a service process: the home (created 0700 when missing), the store, the
 * master key's subkeys and the audit log with the ledger as its primary (signed checkpoints) and
 * the sinks `[[audit.sinks]]` configures (core/audit/service-audit.ts), of the given sink types
 * (the loaded plugins' contributions; absent: loaded from the home). A failure closes what
 * was opened and throws one clear error; nothing stored is touched.
 */
export async function openKernel(settings: Settings, onAuditError: (error: CaracalError) => void, service = 'control', sinkTypes?: readonly SinkContribution[]): Promise<Kernel> {
  const paths = homePaths(settings.home);
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CaracalError('CRC_HOME_UNUSABLE', `cannot create the Caracal home ${paths.home}: ${(error as Error).message}`, {
      cause: error,
      hint: 'choose a writable folder with --home or CARACAL_HOME',
    });
  }
  const store = await openStore({ home: settings.home, databaseUrl: settings.database_url, backgroundCheckpoints: { onError: onAuditError } });
  try {
    const subkeys = deriveSubkeys(loadMasterKey(paths));
    const serviceAudit = await openServiceAudit({ store, settings, service, onError: onAuditError, ...(sinkTypes === undefined ? {} : { types: sinkTypes }) });
    const audit = serviceAudit.log;
    return {
      settings,
      paths,
      store,
      subkeys,
      audit,
      auditSinks: () => serviceAudit.health(),
      auditKey: serviceAudit.key,
      async close() {
        await serviceAudit.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
