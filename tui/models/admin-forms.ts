import { parseCredentialFile } from '../../core/cli/commands/admin/providers.js';
import type { ProviderKind } from '../../core/domain/types.js';
import type { Field, FieldValue, ScenarioStep } from '../../core/plugin/types.js';
import { fieldApplies } from '../../core/plugin/types.js';
import { commonFields, list, text } from '../../plugins/scenario-common/fields.js';
import { answerReader } from '../../plugins/scenario-common/plan.js';
import { providerConfig, thirdPartyProviderScenario } from '../../plugins/scenario-third-party-provider/scenario.js';
import { fieldProblem, typedValue } from '../setup/form.js';
import { wrapText } from '../setup/setup-lines.js';

/**
 * The create and edit prompts of the Resources and Providers views (pure). Their fields are the
 * guided setup's own — the shared resource fields (plugins/scenario-common/) and the provider
 * step of the third-party-provider scenario, with its `when` per kind — so a field's help, checks
 * and messages are the same in `caracal setup`, the guided setup and these views. The provider
 * config is read from the answers by the scenario's own reader, and the credential text by the
 * parser of `caracal providers set-credentials`; the admin API checks the whole again.
 */

const SCENARIO = thirdPartyProviderScenario.id;

/** The provider step of the built-in third-party scenario (every provider field, kind first). */
const providerStep: ScenarioStep = (() => {
  const step = thirdPartyProviderScenario.steps.find((s) => s.id === 'provider');
  if (step === undefined) throw new Error('the third-party-provider scenario has no provider step');
  return step;
})();

function providerField(name: string): Field {
  const field = providerStep.fields.find((f) => f.name === name);
  if (field === undefined) throw new Error(`the provider step has no field "${name}"`);
  return field;
}

/** The kind choice (api-key, bearer, basic, oauth2-client-credentials). */
export const providerKindField: Field = providerField('providerKind');

/** The provider's name: required here (setup defaults it to the resource's slug, which a bare provider has not). */
export const providerNameField: Field = { ...providerField('providerName'), required: true, help: 'The provider\'s name in the zone, e.g. weather-api; resources name it (or its ID)' };

/** The secret, read through a masked prompt only; required when it is asked (create, replace). */
export const credentialField: Field = {
  ...providerField('credential'),
  required: true,
  help: 'One line, never shown: api-key the key; bearer the token; basic user:password; oauth2-client-credentials the client secret (or a JSON object of the kind\'s fields)',
};

/** The non-secret fields that apply to a kind, in the scenario's order (kind, name and credential are asked apart). */
export function providerConfigFields(kind: ProviderKind): readonly Field[] {
  const apart = new Set([providerKindField.name, providerNameField.name, credentialField.name]);
  return providerStep.fields.filter((f) => !apart.has(f.name) && fieldApplies(f, { [providerKindField.name]: kind }, [providerStep]));
}

/** The answers typed into the prompts, by field name, as typed. */
export type PromptAnswers = Readonly<Record<string, string>>;

/** The typed answers as a scenario reads them (empty ones left out, so defaults apply). */
function typedAnswers(fields: readonly Field[], answers: PromptAnswers): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const field of fields) {
    const value = typedValue(field, answers[field.name]);
    if (value !== undefined) out[field.name] = value;
  }
  return out;
}

/**
 * The provider config for the admin API from the config answers of a kind, read by the
 * scenario's own reader; throws its CaracalError (e.g. an api-key with neither header nor query).
 */
export function providerConfigOf(kind: ProviderKind, answers: PromptAnswers): Record<string, unknown> {
  const input = { ...typedAnswers(providerConfigFields(kind), answers), [providerKindField.name]: kind };
  return providerConfig(kind, answerReader(SCENARIO, input, [providerStep]));
}

/** The write-only credentials of a kind from the masked prompt's text (the `set-credentials` format); never echoed. */
export function credentialsOf(kind: ProviderKind, text: string): Record<string, string> {
  return parseCredentialFile(kind, text);
}

/** The fields of a new resource: the guided setup's resource ID, scopes and upstream URL, then an optional provider. */
export const resourceFields: readonly Field[] = [
  commonFields.resource,
  commonFields.scopes,
  commonFields.upstream,
  {
    name: 'provider',
    label: 'Provider',
    help: 'The provider (name or ID) whose credential the Gateway adds to each call; empty for none (tab completes)',
    kind: 'text',
    required: false,
  },
];

/** The upstream URL field (edit keeps its check). */
export const upstreamField: Field = commonFields.upstream;

/** An upstream URL answer as the API stores it: trimmed, without trailing slashes (as setup sends it). */
export function upstreamUrlOf(answer: string): string {
  return answer.trim().replace(/\/+$/, '');
}

/** The body of `POST /v1/zones/:zone/resources` from the prompts' answers. */
export function resourceInputOf(answers: PromptAnswers): { id: string; scopes: string[]; upstream_url: string; provider?: string } {
  const provider = text(answers.provider);
  return {
    id: text(answers.resource) ?? '',
    scopes: [...new Set(list(answers.scopes) ?? [])],
    upstream_url: upstreamUrlOf(answers.upstream ?? ''),
    ...(provider === undefined ? {} : { provider }),
  };
}

/** What the one-line prompt of a field reports for an answer (required, a choice, the field's own check), or undefined. */
export function promptProblem(field: Field): (value: string) => string | undefined {
  return (value) => fieldProblem(field, value);
}

/** Tab completion in a field's prompt: its choices, or `options` (e.g. provider names), that start with what was typed. */
export function promptCompletions(field: Field, typed: string, options: readonly string[] = []): string[] {
  const candidates = field.kind === 'choice' ? (field.choices ?? []).map((c) => c.value) : options;
  return candidates.filter((c) => c.startsWith(typed.trim()));
}

/**
 * The panel shown while a field is asked in the prompt bar: what is being made, the field's help
 * (wrapped), its choices, and the answers so far (a secret field is never among them).
 */
export function promptPanelLines(title: string, field: Field, answered: readonly { readonly label: string; readonly value: string }[], width: number): string[] {
  const lines = [`${title} · ${field.label}${field.required ? '' : ' (optional: enter skips)'}`];
  lines.push(...wrapText(field.help, width));
  for (const choice of field.choices ?? []) lines.push(...wrapText(`${choice.value} — ${choice.label}`, width - 2).map((l) => `  ${l}`));
  if (answered.length > 0) lines.push(...wrapText(`so far: ${answered.map((a) => `${a.label} ${a.value}`).join(' · ')}`, width));
  return lines;
}
