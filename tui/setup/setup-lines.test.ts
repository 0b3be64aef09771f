import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaracalError } from '../../core/errors.js';
import { SAVED_RESULT_HEADER, savedSetupResult } from '../../core/setup/format.js';
import type { SetupResult } from '../../core/setup/setup.js';
import { internalHttpApiPlugin } from '../../plugins/scenario-internal-http-api/index.js';
import { internalHttpApiScenario } from '../../plugins/scenario-internal-http-api/scenario.js';
import { visibleLength } from '../tags.js';
import { osc52 } from './clipboard.js';
import { createSetupForm, nextPage, setValue } from './form.js';
import { failureLines, formLines, pickerLines, resultText, windowLines, wrapText } from './setup-lines.js';
import { saveResult, scenarioChoices } from './setup-view.js';

/** What the guided setup view shows, without a terminal: layouts at 80 and 200 columns, masking, escaping. */

const targets = { profilePath: '/home/u/.config/caracal/caracal.toml', secretFile: '/home/u/.config/caracal/secrets/<zone ID>/<app ID>' };
const plain = (lines: readonly string[]) => lines.map((l) => l.replace(/\{\/?[a-z-]+\}/g, ''));

// Built at run time, so no committed line looks like a real client secret.
const SECRET = `cs_${'abcdefghijklmnopqrstuvwxyz'}${'0123456789ABCDEFG'}`;
const result: SetupResult = {
  scenario: 'internal-http-api',
  zone_id: 'zn_01J0000000000000000000000',
  zone_name: 'local',
  application_id: 'app_01J0000000000000000000000',
  application_name: 'agent',
  resource_id: 'resource://billing-api',
  provider_id: null,
  client_secret: SECRET,
  policy_set_id: 'pset_01J0000000000000000000000',
  policy_set_version: 3,
  profile_path: '/p/caracal.toml',
  secret_file: '/p/secrets/zn/app',
  profile_written: true,
  profile: 'version = 1\nzone_id = "zn_01J0000000000000000000000"\n# {not a tag}\n',
  gateway_url: 'http://127.0.0.1:4701',
  control_url: 'http://127.0.0.1:4700',
  commands: { run: 'CARACAL_CONFIG=/p/caracal.toml caracal run -- <command>', curl: 'CARACAL_CONFIG=/p/caracal.toml caracal run -- sh -c …' },
  created: ['zone'],
  reused: [],
  objects: [{ kind: 'zone', id: 'zn_01J0000000000000000000000', name: 'local', action: 'created' }],
};

describe('guided setup lines', () => {
  it('wraps help at spaces and cuts words longer than the line', () => {
    expect(wrapText('aaa bbb ccc', 10)).toEqual(['aaa bbb', 'ccc']);
    expect(wrapText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('lists every scenario of the loaded plugins with where it comes from, the selected one marked', () => {
    const installed = { name: 'acme-scenarios', caracal: '^1', scenarios: [{ ...internalHttpApiScenario, id: 'acme', title: 'Acme API' }] };
    const choices = scenarioChoices({ plugins: [internalHttpApiPlugin, installed], builtins: [internalHttpApiPlugin] });
    const page = pickerLines(choices, 1, 78);
    expect(plain(page.lines).filter((l) => l.includes(' · '))).toEqual(['  Internal HTTP API  internal-http-api · built in', '▸ Acme API  acme · plugin acme-scenarios']);
    expect(page.focusLine).toBe(plain(page.lines).indexOf('▸ Acme API  acme · plugin acme-scenarios'));
  });

  it.each([80, 200])('fits every form line into %i columns, the focused field with all its help and its message', (columns) => {
    const width = columns - 3;
    const form = nextPage(nextPage(nextPage(createSetupForm(internalHttpApiScenario))));
    const page = formLines(form, width, targets);
    for (const line of page.lines) expect(visibleLength(line), line).toBeLessThanOrEqual(width);
    const text = plain(page.lines).join('\n');
    expect(text).toContain('Internal HTTP API · Step 3 of 5: Resource');
    expect(text).toMatch(/▸ Resource ID \*/);
    expect(text).toContain('✖ Resource ID is required');
    expect(text.replace(/\s+/g, ' ')).toContain('The stable ID of the protected API: resource://<slug> or a bare slug, e.g. billing-api');
  });

  it('masks a secret field as it is typed', () => {
    const scenario = { ...internalHttpApiScenario, steps: [{ id: 'k', title: 'Key', fields: [{ name: 'key', label: 'Key', help: 'the key', kind: 'secret' as const, required: true }] }] };
    const form = setValue(createSetupForm(scenario), 'key', 'hunter2');
    expect(plain(formLines(form, 77, targets).lines).join('\n')).not.toContain('hunter2');
    expect(plain(formLines(form, 77, targets).lines).join('\n')).toContain('•••••••');
  });

  it('shows Review with the plan, the write-profile option and, when it is on, where the files go', () => {
    let form = createSetupForm(internalHttpApiScenario);
    form = setValue(setValue(setValue(form, 'resource', 'billing-api'), 'scopes', 'billing:read'), 'upstream', 'http://127.0.0.1:4780');
    for (let i = 0; i < 4; i++) form = nextPage(form);
    const off = plain(formLines(form, 120, targets).lines).join('\n');
    expect(off).toContain('Step 5 of 5: Review');
    expect(off).toContain('  resource    resource://billing-api  scopes billing:read  upstream http://127.0.0.1:4780');
    expect(off).toMatch(/▸ Write the profile and secret file\s+\[ \] no/);
    expect(off).not.toContain('profile →');
    const on = plain(formLines(setValue(form, 'writeProfile', true), 120, targets).lines).join('\n');
    expect(on).toContain(`profile → ${targets.profilePath}`);
    expect(on).toContain('Press enter to create what is listed above.');
  });

  it('windows a page so the focused block is in sight, from the top when it fits', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    expect(windowLines({ lines, focusLine: 3, focusEnd: 5 }, 10)[0]).toBe('line 0');
    expect(windowLines({ lines, focusLine: 20, focusEnd: 24 }, 10)).toEqual(lines.slice(15, 25));
    // A block taller than the screen shows its start.
    expect(windowLines({ lines, focusLine: 5, focusEnd: 29 }, 10)[0]).toBe('line 5');
  });

  it('shows the result as caracal setup prints it, the secret masked until revealed, data escaped', () => {
    const masked = resultText(result, false);
    expect(masked).not.toContain(SECRET);
    expect(masked).toMatch(/client secret {2}cs_•{8,}/);
    expect(masked).toContain('pset_01J0000000000000000000000 version 3 (active)');
    expect(masked).toContain('# {open}not a tag{close}');
    expect(resultText(result, true)).toContain(SECRET);
    expect(savedSetupResult(result)).toContain(`client secret  ${SECRET}  (shown only this once)`);
    expect(savedSetupResult(result).split('\n')[0]).toBe(SAVED_RESULT_HEADER);
  });

  it('shows a failure with its advice and what was done before it', () => {
    const error = new CaracalError('CRC_CONFLICT', 'setup (internal-http-api) stopped at resource: conflict\ncreated so far: zone local', { hint: 'fix the cause and re-run' });
    const text = plain(failureLines(error, ['created zone local (zn_1)'], 100)).join('\n');
    expect(text).toContain('✖ setup (internal-http-api) stopped at resource: conflict');
    expect(text).toContain('fix the cause and re-run');
    expect(text).toContain('  created zone local (zn_1)');
    expect(text).toContain('enter retries');
  });
});

describe('copying and saving the result', () => {
  it('copies with OSC 52, passed through tmux when inside it', () => {
    expect(osc52('héllo')).toBe(`\u001b]52;c;${Buffer.from('héllo').toString('base64')}\u0007`);
    expect(osc52('x', true)).toBe('\u001bPtmux;\u001b\u001b]52;c;eA==\u0007\u001b\\');
  });

  it('saves the result with its secret to a new owner-only file, never over an existing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'caracal-save-'));
    const path = join(dir, 'deeper', 'setup.txt');
    saveResult(path, result);
    expect(readFileSync(path, 'utf8')).toBe(savedSetupResult(result));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, 'taken.txt'), 'keep');
    expect(() => saveResult(join(dir, 'taken.txt'), result)).toThrow(/already exists: choose another file name|cannot save the setup result/);
    expect(readFileSync(join(dir, 'taken.txt'), 'utf8')).toBe('keep');
  });
});
