import { toCaracalError } from '../../core/errors.js';
import { fieldApplies, type Field, type FieldValue, type PlannedObject, type ScenarioContribution, type ScenarioInput, type ScenarioPlan } from '../../core/plugin/types.js';
import type { PolicyRule } from '../../core/policy/types.js';
import { commonFields } from '../../plugins/scenario-common/fields.js';
import { applyKey, type KeyEvent } from '../line-input.js';

/**
 * The guided setup's form (DESIGN.md §1, §10): walks any scenario's steps, holds the answers as
 * typed, validates each field with the scenario's own validator, and ends on a Review page built
 * from the scenario's pure `plan()`. Pure: no blessed, no I/O; the view (setup-view.ts) renders
 * it and feeds it keys. A secret answer lives only in this in-memory value. A field whose `when`
 * is not met by the answers so far is hidden, not checked and not passed on; a step left with no
 * field is skipped (as the walkthrough skips Provider for an internal API).
 */

/** One page of the form: a scenario step, or the Review page (always last). */
export interface FormPage {
  readonly id: string;
  readonly title: string;
  readonly fields: readonly Field[];
  readonly review: boolean;
}

/** A field's answer as the form holds it: the text typed (text, secret, list, choice) or a boolean. */
export type FormValue = string | boolean;

export interface SetupForm {
  readonly scenario: ScenarioContribution;
  readonly pages: readonly FormPage[];
  /** Index into `pages`. */
  readonly page: number;
  /** Index into the current page's fields. */
  readonly focus: number;
  /** The text cursor in the focused field (text, secret and list fields). */
  readonly cursor: number;
  /**
   * The focused field still holds its default, untouched since it got the focus: the first
   * character typed replaces the default instead of extending it (`/` + `invoices` is
   * `/invoices`, not `//invoices`); moving the cursor or deleting edits the default instead.
   */
  readonly fresh: boolean;
  readonly values: Readonly<Record<string, FormValue>>;
  /** Validation messages shown under their fields; cleared as soon as the answer is fixed. */
  readonly errors: Readonly<Record<string, string>>;
}

/**
 * The option `caracal setup --write-profile` gives (the built-in scenarios' own field), added to
 * Review when a scenario has no field for it.
 */
export const WRITE_PROFILE_FIELD: Field = commonFields.writeProfile;

/** The pages of a scenario: its steps, with its `review` step (or a new one) last, holding the write-profile option. */
function pagesOf(scenario: ScenarioContribution): FormPage[] {
  const hasWriteProfile = scenario.steps.some((step) => step.fields.some((f) => f.name === WRITE_PROFILE_FIELD.name));
  const extra = hasWriteProfile ? [] : [WRITE_PROFILE_FIELD];
  const steps = scenario.steps.filter((step) => step.id !== 'review').map((step) => ({ ...step, review: false }));
  const own = scenario.steps.find((step) => step.id === 'review');
  const review: FormPage = { id: 'review', title: own?.title ?? 'Review', fields: [...(own?.fields ?? []), ...extra], review: true };
  return [...steps, review];
}

/** The form's value for a field's default (a list default is shown comma-separated). */
function initialValue(field: Field): FormValue {
  const d = field.default;
  if (field.kind === 'boolean') return d === true;
  if (Array.isArray(d)) return d.join(', ');
  return typeof d === 'string' ? d : '';
}

/** A fresh form on the scenario's first step, every field holding its default. */
export function createSetupForm(scenario: ScenarioContribution): SetupForm {
  const pages = pagesOf(scenario);
  const values: Record<string, FormValue> = {};
  for (const field of pages.flatMap((p) => p.fields)) values[field.name] = initialValue(field);
  return atField({ scenario, pages, page: 0, focus: 0, cursor: 0, fresh: false, values, errors: {} }, 0, 0);
}

/** The form with `focus` on a page's field, the text cursor at the end of its answer. */
function atField(form: SetupForm, page: number, focus: number): SetupForm {
  const field = pageFields(form, page)[focus];
  const value = field === undefined ? undefined : form.values[field.name];
  const fresh = field !== undefined && typeof value === 'string' && value !== '' && value === initialValue(field);
  return { ...form, page, focus, cursor: typeof value === 'string' ? value.length : 0, fresh };
}

/** The page shown now. */
export function currentPage(form: SetupForm): FormPage {
  return form.pages[form.page] ?? (form.pages.at(-1) as FormPage);
}

/** Every answer typed as the scenario takes it, applicable or not (what `when` conditions read). */
function allAnswers(form: SetupForm): ScenarioInput {
  const input: Record<string, FieldValue> = {};
  for (const field of form.pages.flatMap((p) => p.fields)) {
    const value = typedValue(field, form.values[field.name]);
    if (value !== undefined) input[field.name] = value;
  }
  return input;
}

/** The fields of a page (default: the current one) that apply to the answers so far. */
export function pageFields(form: SetupForm, page = form.page): readonly Field[] {
  const answers = allAnswers(form);
  return (form.pages[page]?.fields ?? []).filter((f) => fieldApplies(f, answers, form.scenario.steps));
}

/** The focused field, if the page has any. */
export function currentField(form: SetupForm): Field | undefined {
  return pageFields(form)[form.focus];
}

/** "Step 2 of 5", for the view's heading (steps skipped for these answers are not counted). */
export function progress(form: SetupForm): string {
  const shown = form.pages.map((page, i) => (page.review || pageFields(form, i).length > 0 ? i : -1)).filter((i) => i !== -1);
  return `Step ${shown.filter((i) => i <= form.page).length} of ${shown.length}`;
}

/** The typed value the scenario receives for an answer; undefined when left empty. */
export function typedValue(field: Field, value: FormValue | undefined): FieldValue | undefined {
  if (field.kind === 'boolean') return value === true;
  if (typeof value !== 'string') return undefined;
  if (field.kind === 'list') {
    const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return items.length === 0 ? undefined : items;
  }
  // A secret is taken as typed (as `caracal setup` keeps the spaces of a secret file's line); only blank is empty.
  if (field.kind === 'secret') return value.trim() === '' ? undefined : value;
  const text = value.trim();
  return text === '' ? undefined : text;
}

/** What is wrong with an answer (required and empty, or the scenario's own message), or undefined. */
export function fieldProblem(field: Field, value: FormValue | undefined): string | undefined {
  const typed = typedValue(field, value);
  // The help is shown beside the field, so the message need not repeat it.
  if (typed === undefined) return field.required ? `${field.label} is required` : undefined;
  if (field.kind === 'choice' && !(field.choices ?? []).some((c) => c.value === typed)) {
    return `choose one of ${(field.choices ?? []).map((c) => c.value).join(', ')}`;
  }
  return field.validate?.(typed);
}

function withError(form: SetupForm, field: Field): SetupForm {
  const problem = fieldProblem(field, form.values[field.name]);
  const errors = { ...form.errors };
  if (problem === undefined) delete errors[field.name];
  else errors[field.name] = problem;
  return { ...form, errors };
}

/** Sets an answer; a message already shown for the field is re-checked, so it goes away once fixed. */
export function setValue(form: SetupForm, name: string, value: FormValue): SetupForm {
  const next = { ...form, values: { ...form.values, [name]: value }, fresh: form.fresh && currentField(form)?.name !== name };
  const field = form.pages.flatMap((p) => p.fields).find((f) => f.name === name);
  return field !== undefined && form.errors[name] !== undefined ? withError(next, field) : next;
}

/** Whether the focused field takes typed text (so printable keys are input, not commands). */
export function isTextField(field: Field | undefined): boolean {
  return field !== undefined && (field.kind === 'text' || field.kind === 'secret' || field.kind === 'list');
}

/**
 * Edits the focused text field with one key through the console's line editor (typing, backspace,
 * arrows, Ctrl-U…). Keys that are not editing (enter, escape, tab) leave the form unchanged.
 */
export function editText(form: SetupForm, key: KeyEvent): SetupForm {
  const field = currentField(form);
  if (field === undefined || !isTextField(field)) return form;
  const value = form.values[field.name];
  const text = typeof value === 'string' ? value : '';
  const typed = form.fresh ? applyKey({ text: '', cursor: 0 }, key) : undefined;
  // On a fresh default, a key that inserts text starts the answer over; any other key edits the default.
  const result = typed?.kind === 'edit' && typed.state.text !== '' ? typed : applyKey({ text, cursor: form.cursor }, key);
  if (result.kind !== 'edit') return form;
  return { ...setValue(form, field.name, result.state.text), cursor: result.state.cursor, fresh: false };
}

/** Flips the focused boolean field. */
export function toggle(form: SetupForm): SetupForm {
  const field = currentField(form);
  if (field?.kind !== 'boolean') return form;
  return setValue(form, field.name, form.values[field.name] !== true);
}

/** Moves the focused choice field to the next (+1) or previous (-1) choice, wrapping around. */
export function cycleChoice(form: SetupForm, delta: 1 | -1): SetupForm {
  const field = currentField(form);
  const choices = field?.choices ?? [];
  if (field?.kind !== 'choice' || choices.length === 0) return form;
  const at = choices.findIndex((c) => c.value === form.values[field.name]);
  const next = at === -1 ? (delta === 1 ? 0 : choices.length - 1) : (at + delta + choices.length) % choices.length;
  return setValue(form, field.name, choices[next]?.value ?? '');
}

/** Moves the focus to the next (+1) or previous (-1) field of the page; the field left is checked. */
export function moveFocus(form: SetupForm, delta: 1 | -1): SetupForm {
  const fields = pageFields(form);
  if (fields.length === 0) return form;
  const left = fields[form.focus];
  const checked = left === undefined ? form : withError(form, left);
  return atField(checked, form.page, Math.min(fields.length - 1, Math.max(0, form.focus + delta)));
}

/**
 * Goes to the next page when every field of this one is acceptable; otherwise stays, shows each
 * message in place and focuses the first field in error. On the Review page it stays (the view
 * runs the setup from there).
 */
export function nextPage(form: SetupForm): SetupForm {
  const fields = pageFields(form);
  let checked = form;
  for (const field of fields) checked = withError(checked, field);
  const firstBad = fields.findIndex((f) => checked.errors[f.name] !== undefined);
  if (firstBad !== -1) return atField(checked, form.page, firstBad);
  let page = form.page + 1;
  while (page < form.pages.length - 1 && pageFields(checked, page).length === 0) page++;
  return page >= form.pages.length ? checked : atField(checked, page, 0);
}

/** Goes back one page with something to answer (answers are kept); on the first page nothing changes. */
export function previousPage(form: SetupForm): SetupForm {
  let page = form.page - 1;
  while (page > 0 && pageFields(form, page).length === 0) page--;
  return page < 0 ? form : atField(form, page, 0);
}

/** The form on the first page (in order) with an answer that is not acceptable, its messages shown; unchanged when there is none. */
export function firstProblem(form: SetupForm): SetupForm {
  const page = form.pages.findIndex((_p, i) => pageFields(form, i).some((f) => fieldProblem(f, form.values[f.name]) !== undefined));
  return page === -1 ? form : nextPage({ ...form, page, focus: 0 });
}

/** Whether every applicable answer is acceptable (what running the setup needs). */
export function isComplete(form: SetupForm): boolean {
  return form.pages.every((_page, i) => pageFields(form, i).every((f) => fieldProblem(f, form.values[f.name]) === undefined));
}

/** The answers as the scenario's `plan()` and `runSetup` take them: applicable and non-empty only, so defaults apply. */
export function scenarioInput(form: SetupForm): ScenarioInput {
  const answers = allAnswers(form);
  const applicable = new Set(form.pages.flatMap((_page, i) => pageFields(form, i)).map((f) => f.name));
  return Object.fromEntries(Object.entries(answers).filter(([name]) => applicable.has(name)));
}

/** Whether the Review option to write the profile and secret file is on. */
export function writesProfile(form: SetupForm): boolean {
  return form.values[WRITE_PROFILE_FIELD.name] === true;
}

/** What the Review page lists: the plan's lines, or why the answers cannot be planned. */
export type Review = { readonly ok: true; readonly plan: ScenarioPlan; readonly lines: readonly string[] } | { readonly ok: false; readonly problem: string };

const KIND_LABEL: Readonly<Record<string, string>> = { zone: 'zone', application: 'app', resource: 'resource', provider: 'provider', policy: 'policy', policy_set: 'policy set' };

/** The Review page's lines from the scenario's pure plan: each object, the starter policy, the profile credential. */
export function reviewOf(form: SetupForm): Review {
  let plan: ScenarioPlan;
  try {
    plan = form.scenario.plan(scenarioInput(form));
  } catch (error) {
    return { ok: false, problem: toCaracalError(error).message };
  }
  const names = new Map(plan.objects.map((o) => [o.ref, objectName(o)]));
  // Compact: Review must fit an 80x24 terminal with the write-profile option under it.
  const lines = ['Will create (an object that already exists with this name is reused):'];
  for (const object of plan.objects) lines.push(`  ${(KIND_LABEL[object.kind] ?? object.kind).padEnd(11)} ${describeObject(object, names)}`);
  if (plan.policy === null) lines.push('No starter policy: tokens are refused until you activate a policy.');
  else {
    lines.push(`Starter policy ${plan.policy.name}:`);
    for (const rule of plan.policy.rules) lines.push(`  ${describeRule(rule, names)}`);
  }
  for (const c of plan.credentials) lines.push(`Profile credential: ${c.env} = token for ${c.resource} (${c.scopes.join(' ')})`);
  if (plan.firstRequest !== undefined) lines.push(`First request: ${plan.firstRequest.method} ${plan.firstRequest.path} on ${plan.firstRequest.resource}`);
  return { ok: true, plan, lines };
}

function objectName(object: PlannedObject): string {
  const { name, id } = object.spec;
  return typeof id === 'string' ? id : typeof name === 'string' ? name : object.ref;
}

/** A planned spec value for people: a `{ $ref }` becomes the referenced object's name. */
function show(value: unknown, names: ReadonlyMap<string, string>): string {
  if (Array.isArray(value)) return value.map((v) => show(v, names)).join(' ');
  if (typeof value === 'object' && value !== null && typeof (value as { $ref?: unknown }).$ref === 'string') {
    const ref = (value as { $ref: string }).$ref;
    return names.get(ref) ?? ref;
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

function describeObject(object: PlannedObject, names: ReadonlyMap<string, string>): string {
  const s = object.spec;
  const parts = [objectName(object)];
  if (object.kind === 'zone' || object.kind === 'provider') parts.push(s.kind === undefined ? '' : `(${show(s.kind, names)})`);
  if (object.kind === 'resource') {
    parts.push(`scopes ${show(s.scopes, names)}`, `upstream ${show(s.upstream_url, names)}`);
    if (s.provider !== undefined) parts.push(`provider ${show(s.provider, names)}`);
  }
  if (object.kind === 'policy_set') {
    parts.push(`with ${show(s.policies, names)}`);
    if (s.extend_active === true) parts.push("(or a new version of the zone's active set)");
    if (s.activate === true) parts.push('then activated');
  }
  return parts.filter((p) => p !== '').join('  ');
}

function describeRule(rule: PolicyRule, names: ReadonlyMap<string, string>): string {
  const app = (a: string) => (a.startsWith('$ref:') ? (names.get(a.slice(5)) ?? a) : a);
  const methods = rule.methods === undefined || rule.methods.includes('*') ? 'every method' : rule.methods.join(' ');
  const paths = rule.paths === undefined || rule.paths.includes('/**') ? 'every path' : rule.paths.join(' ');
  return `${rule.id}: ${rule.effect} app ${rule.apps.map(app).join(' ')} scopes ${rule.scopes.join(' ')} on ${rule.resources.join(' ')}, ${methods}, ${paths}`;
}
