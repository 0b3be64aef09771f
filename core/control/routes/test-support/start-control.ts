import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createAuditLog, type AuditLog } from '../../../audit/audit-log.js';
import { homePaths } from '../../../config/paths.js';
import { deriveSubkeys, type Subkeys } from '../../../crypto/master-key.js';
import { generateAdminToken } from '../../../crypto/secrets.js';
import { createLogger } from '../../../log/logger.js';
import { openStore } from '../../../store/open-store.js';
import type { Store } from '../../../store/store.js';
import { ledgerSink } from '../../../../plugins/sink-ledger/index.js';
import { createControlContext } from '../../context.js';
import { createControlServer } from '../../server.js';

/** A real control plane for tests: SQLite in a temp home, the real audit log, logs captured in memory. */
export interface TestControl {
  readonly url: string;
  readonly home: string;
  readonly adminToken: string;
  readonly store: Store;
  readonly subkeys: Subkeys;
  readonly audit: AuditLog;
  readonly server: FastifyInstance;
  /** Everything the server logged so far (JSON lines). */
  logs(): string;
  close(): Promise<void>;
}

/** Starts createControlServer on 127.0.0.1, port 0, with the admin token also written to `home/admin-token` (0600). */
export async function startTestControl(): Promise<TestControl> {
  const home = mkdtempSync(join(tmpdir(), 'caracal-control-'));
  const paths = homePaths(home);
  mkdirSync(home, { recursive: true });
  const adminToken = generateAdminToken();
  writeFileSync(paths.adminToken, `${adminToken}\n`, { mode: 0o600 });
  chmodSync(paths.adminToken, 0o600);

  const store = await openStore({ home });
  const subkeys = deriveSubkeys(randomBytes(32));
  const audit = createAuditLog({ recorder: ledgerSink(store), flushIntervalMs: 1 });
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ name: 'control', level: 'trace', destination });
  let url = 'http://127.0.0.1';
  const server = createControlServer({
    context: createControlContext({
      store,
      subkeys,
      audit,
      get issuer() {
        return url;
      },
    }),
    adminToken,
    logger,
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('the test control plane has no TCP address');
  url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    home,
    adminToken,
    store,
    subkeys,
    audit,
    server,
    logs: () => chunks.join(''),
    async close() {
      await server.close();
      await audit.close();
      await store.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
