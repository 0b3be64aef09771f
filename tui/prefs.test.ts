import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanPrefs, createPrefs, openPrefs, type PrefsData } from './prefs.js';

describe('console preferences', () => {
  it('keeps only known keys with valid values, dropping anything that looks like a secret', () => {
    const cleaned = cleanPrefs({
      lastZone: { 'http://127.0.0.1:4700': 'zn_01ABC', 'not a url': 'zn_01ABC', 'http://x': 'cs_secret' },
      audit: { decision: 'deny', app: 'cs_AAAAAAAAAAAAAAAA', request_id: 'req_01', since: '15m', until: '2w', type: 'nope', token: 'eyJhbGciOi' },
      client_secret: 'cs_leak',
    });
    expect(cleaned).toEqual({ lastZone: { 'http://127.0.0.1:4700': 'zn_01ABC' }, audit: { decision: 'deny', request_id: 'req_01', since: '15m', until: '2w' } });
    expect(cleanPrefs('garbage')).toEqual({ lastZone: {}, audit: {} });
  });

  it('remembers the last zone per control plane and the audit filters through its backend', () => {
    let stored: PrefsData | undefined;
    const prefs = createPrefs({ read: () => stored, write: (data) => (stored = data) });
    prefs.setLastZone('http://127.0.0.1:4700', 'zn_01A');
    prefs.setLastZone('http://10.0.0.5:4700', 'zn_01B');
    prefs.setAuditFilters({ decision: 'error', resource: 'resource://billing-api' });
    const again = createPrefs({ read: () => stored, write: () => undefined });
    expect(again.lastZone('http://127.0.0.1:4700')).toBe('zn_01A');
    expect(again.lastZone('http://10.0.0.5:4700')).toBe('zn_01B');
    expect(again.auditFilters()).toEqual({ decision: 'error', resource: 'resource://billing-api' });
  });

  it('writes <config dir>/console.json readable only by its owner, and keeps working when writing fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caracal-prefs-'));
    const prefs = await openPrefs(dir);
    prefs.setLastZone('http://127.0.0.1:4700', 'zn_01C');
    const file = join(dir, 'console.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ lastZone: { 'http://127.0.0.1:4700': 'zn_01C' }, audit: {} });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await openPrefs(dir)).lastZone('http://127.0.0.1:4700')).toBe('zn_01C');

    const failing = createPrefs({ read: () => ({}), write: () => { throw new Error('read-only'); } });
    failing.setAuditFilters({ decision: 'deny' });
    expect(failing.auditFilters()).toEqual({ decision: 'deny' });
  });
});
