import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from '../store-contract.js';
import { SqliteStore } from './sqlite-store.js';

describeStoreContract('SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caracal-store-'));
  const store = SqliteStore.open(join(dir, 'caracal.db'));
  return Promise.resolve({
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});
