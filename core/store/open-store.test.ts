import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from './open-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'caracal-open-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('openStore', () => {
  it('opens the embedded SQLite database in the home folder, creating the home', async () => {
    const home = join(dir, 'home');
    const store = await openStore({ home });
    expect(store.kind).toBe('sqlite');
    expect(store.location).toBe(join(home, 'caracal.db'));
    expect(existsSync(join(home, 'caracal.db'))).toBe(true);
    await store.close();
  });

  it.each([
    ['sqlite:<absolute path>', (file: string) => `sqlite:${file}`],
    ['sqlite://<absolute path>', (file: string) => `sqlite://${file}`],
  ])('opens another SQLite file given as %s', async (_label, url) => {
    const file = join(dir, 'elsewhere.db');
    const store = await openStore({ home: join(dir, 'home'), databaseUrl: url(file) });
    expect(store.location).toBe(file);
    await store.close();
  });

  it.each(['postgres://caracal:hunter2@db:5432/caracal', 'postgresql://db/caracal'])(
    'says plainly that PostgreSQL (%s) is not built yet, without echoing the URL',
    async (url) => {
      const error = await openStore({ home: dir, databaseUrl: url }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CRC_CONFIG_INVALID', message: expect.stringMatching(/PostgreSQL store is not built yet/) as unknown });
      expect(JSON.stringify(error) + String(error)).not.toContain('hunter2');
    },
  );

  it('refuses an unknown URL scheme without echoing it', async () => {
    const error = await openStore({ home: dir, databaseUrl: 'mysql://root:s3cret@db/caracal' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CRC_CONFIG_INVALID' });
    expect(String(error)).not.toContain('s3cret');
  });
});
