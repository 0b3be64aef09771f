import { describe, expect, it } from 'vitest';
import type { ScenarioContribution } from '../../core/plugin/types.js';
import { internalHttpApiScenario } from '../../plugins/scenario-internal-http-api/scenario.js';
import {
  createSetupForm,
  currentField,
  currentPage,
  cycleChoice,
  editText,
  fieldProblem,
  isComplete,
  moveFocus,
  nextPage,
  pageFields,
  previousPage,
  progress,
  reviewOf,
  scenarioInput,
  setValue,
  toggle,
  writesProfile,
  type SetupForm,
} from './form.js';

/** Types text into the focused field one key at a time, as the view does. */
const typeText = (form: SetupForm, text: string) => [...text].reduce((f, ch) => editText(f, { ch, full: ch }), form);

/** A plugin-style scenario with every field kind, a conditional answer, and no Review step of its own. */
const kitchenSink: ScenarioContribution = {
  id: 'kitchen-sink',
  title: 'Kitchen sink',
  description: 'every field kind',
  steps: [
    {
      id: 'provider',
      title: 'Provider',
      fields: [
        { name: 'kind', label: 'Kind', help: 'how the upstream authenticates', kind: 'choice', required: true, choices: [{ value: 'api-key', label: 'API key' }, { value: 'bearer', label: 'Bearer token' }, { value: 'oauth2', label: 'OAuth' }] },
        { name: 'credential', label: 'Credential', help: 'the upstream secret', kind: 'secret', required: true },
        { name: 'hosts', label: 'Allowed hosts', help: 'comma-separated', kind: 'list', required: false, default: ['a.example', 'b.example'] },
        { name: 'verbose', label: 'Verbose', help: 'say more', kind: 'boolean', required: false },
        { name: 'header', label: 'Header', help: 'api-key only', kind: 'text', required: true, when: { field: 'kind', in: ['api-key'] } },
      ],
    },
    {
      id: 'oauth',
      title: 'OAuth',
      fields: [{ name: 'tokenUrl', label: 'Token URL', help: 'oauth only', kind: 'text', required: true, when: { field: 'kind', in: ['oauth2'] } }],
    },
  ],
  plan: (input) => ({
    scenario: 'kitchen-sink',
    objects: [
      { kind: 'zone', ref: 'zone', spec: { name: 'z', kind: 'evaluation' } },
      { kind: 'provider', ref: 'provider', spec: { zone: { $ref: 'zone' }, name: `p-${String(input.kind)}`, kind: input.kind } },
    ],
    policy: null,
    credentials: [{ resource: 'resource://x', scopes: ['x:read'], env: 'CARACAL_X_TOKEN' }],
  }),
};

describe('guided setup form: pages and defaults', () => {
  it("walks the scenario's steps and ends on its Review step, every field holding its default", () => {
    const form = createSetupForm(internalHttpApiScenario);
    expect(form.pages.map((p) => p.title)).toEqual(['Zone', 'Agent app', 'Resource', 'Access policy', 'Review']);
    expect(form.pages.at(-1)).toMatchObject({ review: true, fields: [{ name: 'writeProfile' }] });
    expect(form.values).toMatchObject({ zone: 'local', app: 'agent', resource: '', scopes: '', firstPath: '/', policy: true, writeProfile: false });
    expect(progress(form)).toBe('Step 1 of 5');
  });

  it('adds a Review page with the write-profile option when the scenario has neither', () => {
    const form = createSetupForm(kitchenSink);
    expect(form.pages.map((p) => [p.id, p.review])).toEqual([['provider', false], ['oauth', false], ['review', true]]);
    expect(form.pages[2]?.fields.map((f) => f.name)).toEqual(['writeProfile']);
    // A list default is shown as the text one would type.
    expect(form.values.hosts).toBe('a.example, b.example');
  });
});

describe('guided setup form: editing', () => {
  it('edits text fields with the line editor (cursor at the end of the default); enter, tab and escape are not input', () => {
    let form = createSetupForm(internalHttpApiScenario);
    expect(form.cursor).toBe('local'.length);
    form = editText(form, { full: 'C-u' });
    form = typeText(form, 'prd!');
    form = editText(form, { full: 'backspace' });
    form = editText(form, { full: 'left' });
    form = typeText(form, 'o');
    form = editText(form, { ch: '\r', full: 'enter' });
    form = editText(form, { ch: '\t', full: 'tab' });
    form = editText(form, { ch: '\x1b', full: 'escape' });
    expect(form.values.zone).toBe('prod');
    expect(form.cursor).toBe(3);
  });

  it('puts the cursor at the end of the answer of each field it moves to', () => {
    const form = moveFocus(nextPage(nextPage(setValue(createSetupForm(internalHttpApiScenario), 'resource', 'billing-api'))), 1);
    expect(currentField(form)?.name).toBe('scopes');
    expect(moveFocus(form, -1).cursor).toBe('billing-api'.length);
  });

  it('replaces an untouched default with the first character typed; editing keys change the default instead', () => {
    const fresh = createSetupForm(internalHttpApiScenario);
    expect(currentField(fresh)?.name).toBe('zone');
    expect(fresh.values.zone).toBe('local');
    expect(fresh.fresh).toBe(true);
    expect(typeText(fresh, 'eval').values.zone).toBe('eval');
    const edited = typeText(editText(fresh, { full: 'backspace' }), 'x');
    expect(edited.values.zone).toBe('locax');
    const moved = typeText(editText(fresh, { full: 'home' }), 'my-');
    expect(moved.values.zone).toBe('my-local');
  });

  it('keeps q, :, / and ? as text in a text field (they are commands elsewhere)', () => {
    const form = typeText(setValue(createSetupForm(internalHttpApiScenario), 'zone', ''), 'q:/?');
    expect(form.values.zone).toBe('q:/?');
  });

  it('toggles booleans and cycles choices, wrapping around; neither touches a text field', () => {
    let form = createSetupForm(kitchenSink);
    expect(form.values.kind).toBe('');
    form = cycleChoice(form, 1);
    expect(form.values.kind).toBe('api-key');
    form = cycleChoice(cycleChoice(cycleChoice(form, 1), 1), 1);
    expect(form.values.kind).toBe('api-key');
    form = cycleChoice(form, -1);
    expect(form.values.kind).toBe('oauth2');
    form = moveFocus(moveFocus(moveFocus(form, 1), 1), 1);
    expect(currentField(form)?.name).toBe('verbose');
    expect(toggle(form).values.verbose).toBe(true);
    const onText = moveFocus(form, -1);
    expect(toggle(onText)).toBe(onText);
    expect(cycleChoice(onText, 1)).toBe(onText);
  });
});

describe('guided setup form: validation in place', () => {
  it("shows the scenario's own message for the field left, and clears it once the answer is fixed", () => {
    let form = setValue(createSetupForm(internalHttpApiScenario), 'zone', 'Bad Zone');
    form = moveFocus(form, 1);
    expect(form.errors.zone).toMatch(/lowercase letters/);
    form = setValue(form, 'zone', 'good');
    expect(form.errors.zone).toBeUndefined();
  });

  it('refuses to leave a page with a required field empty, naming it and focusing the first one in error', () => {
    let form = nextPage(nextPage(createSetupForm(internalHttpApiScenario)));
    expect(currentPage(form).title).toBe('Resource');
    form = setValue(form, 'resource', 'billing-api');
    form = nextPage(form);
    expect(currentPage(form).title).toBe('Resource');
    expect(currentField(form)?.name).toBe('scopes');
    expect(form.errors.scopes).toBe('Scopes is required');
    expect(form.errors.upstream).toBe('Upstream URL is required');
    expect(form.errors.resource).toBeUndefined();
  });

  it('checks list fields item by item and URLs with the scenario validators', () => {
    const scopes = internalHttpApiScenario.steps[2]?.fields[1];
    const upstream = internalHttpApiScenario.steps[2]?.fields[2];
    expect(scopes && fieldProblem(scopes, 'billing:read, bad scope')).toMatch(/"bad scope" is not a scope/);
    expect(scopes && fieldProblem(scopes, ' billing:read , billing:write ')).toBeUndefined();
    expect(upstream && fieldProblem(upstream, 'ftp://x')).toMatch(/http:\/\/ or https:\/\//);
  });

  it('refuses a choice that is not one of the choices, and a required secret left empty', () => {
    const [kind, credential] = kitchenSink.steps[0]?.fields ?? [];
    expect(kind && fieldProblem(kind, 'basic')).toBe('choose one of api-key, bearer, oauth2');
    expect(credential && fieldProblem(credential, '   ')).toMatch(/Credential is required/);
  });

  it('goes back a page keeping the answers; the first page has nothing before it', () => {
    const first = createSetupForm(internalHttpApiScenario);
    expect(previousPage(first)).toBe(first);
    const second = nextPage(setValue(first, 'zone', 'kept'));
    expect(previousPage(second)).toMatchObject({ page: 0, values: { zone: 'kept' } });
  });
});

describe('guided setup form: fields that apply only to some answers (when)', () => {
  const answered = (kind: string) => setValue(setValue(createSetupForm(kitchenSink), 'kind', kind), 'credential', ' s3cret ');

  it('shows a conditional field only while the answer it depends on holds, and requires it only then', () => {
    expect(pageFields(answered('api-key')).map((f) => f.name)).toContain('header');
    const bearer = answered('bearer');
    expect(pageFields(bearer).map((f) => f.name)).toEqual(['kind', 'credential', 'hosts', 'verbose']);
    expect(nextPage(setValue(answered('api-key'), 'header', '')).errors.header).toMatch(/Header is required/);
    expect(nextPage(bearer).errors).toEqual({});
  });

  it('skips a step left without fields, both ways, and does not count it', () => {
    const review = nextPage(answered('bearer'));
    expect(currentPage(review).id).toBe('review');
    expect(progress(review)).toBe('Step 2 of 2');
    expect(currentPage(previousPage(review)).id).toBe('provider');
    const oauth = nextPage(answered('oauth2'));
    expect(currentPage(oauth).id).toBe('oauth');
    expect(progress(oauth)).toBe('Step 2 of 3');
  });

  it('passes on no stale answer of a field that no longer applies; a secret is kept as typed', () => {
    const form = setValue(setValue(answered('api-key'), 'header', 'X-Api-Key'), 'kind', 'bearer');
    expect(scenarioInput(form)).toEqual({ kind: 'bearer', credential: ' s3cret ', hosts: ['a.example', 'b.example'], verbose: false, writeProfile: false });
  });
});

describe('guided setup form: input and Review', () => {
  const filled = () => {
    let form = createSetupForm(internalHttpApiScenario);
    form = setValue(form, 'resource', 'billing-api');
    form = setValue(form, 'scopes', 'billing:read, billing:write,');
    form = setValue(form, 'upstream', 'http://127.0.0.1:4780/');
    form = setValue(form, 'writeProfile', true);
    for (let i = 0; i < 4; i++) form = nextPage(form);
    return form;
  };

  it('turns the answers into the typed input `caracal setup` would pass (lists split, empty answers left out)', () => {
    const form = filled();
    expect(currentPage(form).review).toBe(true);
    expect(isComplete(form)).toBe(true);
    expect(writesProfile(form)).toBe(true);
    expect(scenarioInput(setValue(form, 'firstPath', ' '))).toEqual({
      zone: 'local',
      app: 'agent',
      resource: 'billing-api',
      scopes: ['billing:read', 'billing:write'],
      upstream: 'http://127.0.0.1:4780/',
      policy: true,
      writeProfile: true,
    });
  });

  it("lists what the scenario's plan will create, the starter policy, the credential and the first request", () => {
    const review = reviewOf(filled());
    expect(review.ok).toBe(true);
    if (!review.ok) return;
    expect(review.lines).toEqual([
      'Will create (an object that already exists with this name is reused):',
      '  zone        local  (evaluation)',
      '  app         agent',
      '  resource    resource://billing-api  scopes billing:read billing:write  upstream http://127.0.0.1:4780',
      '  policy      starter-agent-billing-api',
      "  policy set  starter  with starter-agent-billing-api  (or a new version of the zone's active set)  then activated",
      'Starter policy starter-agent-billing-api:',
      '  starter: allow app agent scopes billing:read billing:write on resource://billing-api, every method, every path',
      'Profile credential: CARACAL_BILLING_API_TOKEN = token for resource://billing-api (billing:read billing:write)',
      'First request: GET / on resource://billing-api',
    ]);
  });

  it('says so on Review when the starter policy is skipped', () => {
    const review = reviewOf(setValue(filled(), 'policy', false));
    expect(review.ok && review.lines).toContain('No starter policy: tokens are refused until you activate a policy.');
    expect(review.ok && review.lines.some((l) => l.includes('policy set'))).toBe(false);
  });

  it("reports the plan's refusal instead of a Review when answers are missing", () => {
    const review = reviewOf(createSetupForm(internalHttpApiScenario));
    expect(review.ok).toBe(false);
    expect(!review.ok && review.problem).toMatch(/needs "resource"/);
  });
});
