import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROFILE_HEADER } from '../profile/profile.js';
import { SAVED_RESULT_HEADER } from '../setup/format.js';
import { purge, purgePlan } from './purge.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function layout(): { home: string; config: string } {
  const root = mkdtempSync(join(tmpdir(), 'caracal-purge-'));
  roots.push(root);
  const home = join(root, 'home');
  const config = join(root, 'config');
  mkdirSync(join(home, 'logs'), { recursive: true });
  writeFileSync(join(home, 'caracal.db'), '');
  mkdirSync(join(config, 'secrets'), { recursive: true });
  writeFileSync(join(config, 'caracal.toml'), `${PROFILE_HEADER}\nversion = 1\n`);
  return { home, config };
}

describe('caracal purge', () => {
  it('also removes the profiles and saved setup results Caracal wrote under other names in the config dir', () => {
    const { home, config } = layout();
    writeFileSync(join(config, 'third-party.toml'), `${PROFILE_HEADER}\nversion = 1\n`);
    writeFileSync(join(config, 'setup-app_01J.txt'), `${SAVED_RESULT_HEADER}\nclient secret  cs_x\n`);
    expect(purgePlan(home, config)).toEqual(expect.arrayContaining([join(config, 'third-party.toml'), join(config, 'setup-app_01J.txt')]));
    expect(purge(home, config)).toEqual([]);
    expect(existsSync(config)).toBe(false);
    expect(existsSync(home)).toBe(false);
  });

  it('keeps a user file in the config dir, even one named like Caracal\'s, and the folder that holds it', () => {
    const { home, config } = layout();
    writeFileSync(join(config, 'notes.toml'), '# my own notes\nversion = 1\n');
    writeFileSync(join(config, 'setup-mine.txt'), 'not written by caracal\n');
    mkdirSync(join(config, 'folder.toml'));
    expect(purge(home, config)).toEqual([config]);
    expect(existsSync(join(config, 'notes.toml'))).toBe(true);
    expect(existsSync(join(config, 'setup-mine.txt'))).toBe(true);
    expect(existsSync(join(config, 'folder.toml'))).toBe(true);
    expect(existsSync(join(config, 'caracal.toml'))).toBe(false);
  });
});
