import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile } from './load-profile.js';
import { defaultProfilePath, defaultSecretPath, locateProfile } from './locate-profile.js';
import { renderProfile } from './profile.js';
import { readSecretFile } from './secret-file.js';
import { checkProfileTargets, writeProfileFiles } from './write-profile.js';

const SECRET = `cs_${'A'.repeat(43)}`;
const temp = () => mkdtempSync(join(tmpdir(), 'caracal-profile-'));

describe('locateProfile: --profile > CARACAL_CONFIG > <config dir>/caracal.toml', () => {
  it.each([
    ['/a/flag.toml', { CARACAL_CONFIG: '/b/env.toml', CARACAL_CONFIG_DIR: '/c' }, '/a/flag.toml', 'flag'],
    [undefined, { CARACAL_CONFIG: '/b/env.toml', CARACAL_CONFIG_DIR: '/c' }, '/b/env.toml', 'env'],
    [undefined, { CARACAL_CONFIG: '', CARACAL_CONFIG_DIR: '/c' }, '/c/caracal.toml', 'default'],
    [undefined, { XDG_CONFIG_HOME: '/x' }, process.platform === 'linux' ? '/x/caracal/caracal.toml' : defaultProfilePath({ XDG_CONFIG_HOME: '/x' }), 'default'],
  ] as const)('flag %s, env %j → %s', (flag, env, path, source) => {
    expect(locateProfile(flag, env)).toEqual({ path, source });
  });

  it('puts secret files under <config dir>/secrets/<zone>/<app>', () => {
    expect(defaultSecretPath('zn_1', 'app_2', { CARACAL_CONFIG_DIR: '/c' })).toBe('/c/secrets/zn_1/app_2');
  });
});

describe('writeProfileFiles', () => {
  it('creates owner-only folders and files, and reads back', () => {
    const dir = temp();
    const files = { profilePath: join(dir, 'cfg', 'caracal.toml'), secretPath: join(dir, 'cfg', 'secrets', 'zn', 'app') };
    writeProfileFiles({ ...files, profileText: 'x = 1\n', secret: SECRET, overwrite: false });
    expect(statSync(files.profilePath).mode & 0o777).toBe(0o600);
    expect(statSync(files.secretPath).mode & 0o777).toBe(0o600);
    for (const folder of ['cfg', 'cfg/secrets', 'cfg/secrets/zn']) expect(statSync(join(dir, folder)).mode & 0o777).toBe(0o700);
    expect(readSecretFile(files.secretPath)).toBe(SECRET);
  });

  it('never overwrites without overwrite, and replaces with it', () => {
    const dir = temp();
    const files = { profilePath: join(dir, 'p.toml'), secretPath: join(dir, 's') };
    writeFileSync(files.profilePath, 'old', { mode: 0o644 });
    expect(() => checkProfileTargets(files, false)).toThrow(/already exists; refusing to overwrite it/);
    expect(() => writeProfileFiles({ ...files, profileText: 'new', secret: SECRET, overwrite: false })).toThrow(/already exists/);
    expect(readFileSync(files.profilePath, 'utf8')).toBe('old');
    writeProfileFiles({ ...files, profileText: 'new', secret: SECRET, overwrite: true });
    expect(readFileSync(files.profilePath, 'utf8')).toBe('new');
    expect(statSync(files.profilePath).mode & 0o777).toBe(0o600);
  });
});

describe('readSecretFile', () => {
  it.each([0o644, 0o640, 0o604, 0o660, 0o606])('refuses mode %o with the chmod that fixes it', (mode) => {
    const path = join(temp(), 'secret');
    writeFileSync(path, SECRET);
    chmodSync(path, mode);
    expect(() => readSecretFile(path)).toThrow(/accessible to other users/);
    try {
      readSecretFile(path);
    } catch (error) {
      expect((error as { hint: string }).hint).toContain(`chmod 600 '${path}'`);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });

  it.each([0o600, 0o400])('accepts mode %o', (mode) => {
    const path = join(temp(), 'secret');
    writeFileSync(path, `${SECRET}\n`);
    chmodSync(path, mode);
    expect(readSecretFile(path)).toBe(SECRET);
  });

  it('refuses a missing file and a file that holds no secret, without echoing its content', () => {
    const dir = temp();
    expect(() => readSecretFile(join(dir, 'none'))).toThrow(/does not exist/);
    const path = join(dir, 'wrong');
    writeFileSync(path, 'hunter2-not-a-secret', { mode: 0o600 });
    expect(() => readSecretFile(path)).toThrow(/does not hold an app client secret/);
    expect(() => readSecretFile(path)).not.toThrow(/hunter2/);
  });
});

describe('loadProfile', () => {
  it('says which rule chose a missing profile and how to make one', () => {
    expect(() => loadProfile(undefined, { CARACAL_CONFIG_DIR: '/nonexistent-caracal' })).toThrow(
      'no runtime profile: /nonexistent-caracal/caracal.toml (the default profile) does not exist',
    );
    expect(() => loadProfile('/nonexistent-caracal/p.toml', {})).toThrow(/named by --profile/);
  });

  it('loads the profile CARACAL_CONFIG names', () => {
    const path = join(temp(), 'p.toml');
    writeFileSync(
      path,
      renderProfile({
        zoneId: 'zn_01J0000000000000000000000A',
        applicationId: 'app_01J0000000000000000000000B',
        controlUrl: 'http://127.0.0.1:4700/',
        gatewayUrl: 'http://127.0.0.1:4701',
        clientSecretFile: 'secret',
        runtime: 'proxy',
        credentials: [{ resource: 'resource://a', scopes: [], env: 'A_TOKEN' }],
      }),
    );
    expect(loadProfile(undefined, { CARACAL_CONFIG: path })).toMatchObject({ path, runtime: 'proxy', controlUrl: 'http://127.0.0.1:4700', clientSecretFile: join(path, '..', 'secret') });
  });
});
