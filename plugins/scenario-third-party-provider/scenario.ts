import { parseCredentialFile } from '../../core/cli/commands/admin/providers.js';
import { providerKinds, providerSchemas } from '../../core/control/routes/provider-config.js';
import type { ProviderKind } from '../../core/domain/types.js';
import { allowedHostsOf, hostEntryOf, isHostAllowed } from '../../core/net/allowed-hosts.js';
import { CaracalError } from '../../core/errors.js';
import type { Field, PlannedObject, ScenarioContribution, ScenarioInput, ScenarioPlan } from '../../core/plugin/types.js';
import { commonFields, commonSteps, list, oneOf, scopesProblem, text } from '../scenario-common/fields.js';
import { answerReader, planOneResource, readCommonAnswers } from '../scenario-common/plan.js';

/**
 * The `third-party-provider` scenario (DESIGN.md §1, §9): like internal-http-api, plus a provider
 * whose credential the Gateway injects into every upstream call, so the agent never holds it.
 * The provider's settings are checked with the admin API's own schemas (provider-config.ts), so
 * setup refuses exactly what the control plane would, before anything is created.
 */

const SCENARIO = 'third-party-provider';
const OAUTH2 = 'oauth2-client-credentials';

const KIND_LABELS: Record<ProviderKind, string> = {
  'api-key': 'API key, in a request header (optionally with a scheme) or a query parameter',
  bearer: 'Bearer token (Authorization: Bearer <token>)',
  basic: 'HTTP basic (user name and password)',
  'oauth2-client-credentials': 'OAuth 2.0 client credentials (the Gateway fetches, caches and refreshes the token)',
};
const kindChoices = providerKinds.map((value) => ({ value, label: KIND_LABELS[value] }));

/** The first problem the admin API's schema finds in a provider config, as a message, or undefined. */
function configProblem(kind: ProviderKind, config: Readonly<Record<string, unknown>>): string | undefined {
  const parsed = providerSchemas().config[kind].safeParse(config);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  if (issue === undefined) return 'is invalid';
  // An allowed-hosts issue points at one list item: name it.
  const [key, index] = issue.path;
  const item = typeof index === 'number' && typeof key === 'string' ? (config[key] as readonly unknown[] | undefined)?.[index] : undefined;
  return typeof item === 'string' ? `"${item.slice(0, 100)}": ${issue.message}` : issue.message;
}

// A config that is valid but for the one key under test, so each field is checked on its own.
const OAUTH2_BASE = { token_url: 'https://auth.example.com/oauth2/token', client_id: 'client' };

/** Fields only some kinds use say so with `when`, so forms can hide them. */
const fields = {
  upstream: { ...commonFields.upstream, help: 'The third-party API\'s base URL, where the Gateway forwards calls with the credential added, e.g. https://api.example.com/v1' },
  providerKind: {
    name: 'providerKind',
    label: 'Provider kind',
    help: `How the upstream API authenticates callers: ${providerKinds.join(', ')}`,
    kind: 'choice',
    required: true,
    choices: kindChoices,
    validate: oneOf(kindChoices),
  },
  providerName: {
    name: 'providerName',
    label: 'Provider name',
    help: 'The provider\'s name in the zone (default: the resource\'s slug); a re-run with the same name reuses it',
    kind: 'text',
    required: false,
    validate: (v) => (typeof v === 'string' && /^\S(?:[^\p{Cc}]{0,126}\S)?$/u.test(v) ? undefined : 'a provider name is 1–128 printable characters without surrounding spaces'),
  },
  apiKeyHeader: {
    name: 'apiKeyHeader',
    label: 'API key header',
    help: 'api-key only: the request header that carries the key, e.g. X-Api-Key (or give the query parameter instead)',
    kind: 'text',
    required: false,
    when: { field: 'providerKind', in: ['api-key'] },
    validate: (v) => configProblem('api-key', { header: v }),
  },
  apiKeyQuery: {
    name: 'apiKeyQuery',
    label: 'API key query parameter',
    help: 'api-key only: the query parameter that carries the key, e.g. api_key (or give the header instead)',
    kind: 'text',
    required: false,
    when: { field: 'providerKind', in: ['api-key'] },
    validate: (v) => configProblem('api-key', { query: v }),
  },
  authScheme: {
    name: 'authScheme',
    label: 'Auth scheme',
    help: 'api-key in a header and bearer only: the word before the credential, e.g. Token (bearer: default Bearer; api-key: none, the header holds the bare key)',
    kind: 'text',
    required: false,
    when: { field: 'providerKind', in: ['api-key', 'bearer'] },
    validate: (v) => configProblem('bearer', { scheme: v }),
  },
  tokenUrl: {
    name: 'tokenUrl',
    label: 'Token URL',
    help: 'oauth2-client-credentials only: the token endpoint the Gateway gets upstream tokens from, e.g. https://auth.example.com/oauth2/token',
    kind: 'text',
    required: true,
    when: { field: 'providerKind', in: [OAUTH2] },
    validate: (v) => configProblem(OAUTH2, { ...OAUTH2_BASE, token_url: v }),
  },
  clientId: {
    name: 'clientId',
    label: 'Client ID',
    help: 'oauth2-client-credentials only: the client ID the third party issued (its secret goes in the credential file)',
    kind: 'text',
    required: true,
    when: { field: 'providerKind', in: [OAUTH2] },
    validate: (v) => (typeof v === 'string' && v.length <= 512 && !/\p{Cc}/u.test(v) ? undefined : 'a client ID is 1–512 printable characters'),
  },
  providerScopes: {
    name: 'providerScopes',
    label: 'Provider scopes',
    help: 'oauth2-client-credentials only: the scopes to ask the token endpoint for, comma-separated (default: none, the endpoint decides)',
    kind: 'list',
    required: false,
    when: { field: 'providerKind', in: [OAUTH2] },
    validate: (v) => scopesProblem(v, 'read'),
  },
  audience: {
    name: 'audience',
    label: 'Audience',
    help: 'oauth2-client-credentials only: the audience parameter some token endpoints need, e.g. https://api.example.com (default: none)',
    kind: 'text',
    required: false,
    when: { field: 'providerKind', in: [OAUTH2] },
    validate: (v) => (typeof v === 'string' && v.length <= 2048 && !/\p{Cc}/u.test(v) ? undefined : 'an audience is 1–2048 printable characters'),
  },
  allowedHosts: {
    name: 'allowedHosts',
    label: 'Allowed hosts',
    help: 'The only hosts the credential may be sent to, comma-separated, e.g. api.example.com,*.example.com (default: the upstream URL\'s host)',
    kind: 'list',
    required: false,
    validate: (v) => configProblem('basic', { allowed_hosts: list(v) ?? [] }),
  },
  credential: {
    name: 'credential',
    label: 'Credential',
    help:
      'The secret, from a file or stdin (never typed on the command line), one line: api-key the key; bearer the token; basic user:password; oauth2-client-credentials the client secret (or a JSON object of the kind\'s fields). ' +
      'Required when the provider is created; on a re-run, a new one replaces the stored one and none keeps it',
    kind: 'secret',
    required: false,
    validate: (v) => (typeof v === 'string' && v.length <= 16 * 1024 && !/\p{Cc}/u.test(v) ? undefined : 'the credential is one line of at most 16 KiB without control characters'),
  },
} as const satisfies Record<string, Field>;

const steps = [
  commonSteps.zone,
  commonSteps.app,
  { ...commonSteps.resource, fields: [commonFields.resource, commonFields.scopes, fields.upstream, commonFields.firstPath] },
  {
    id: 'provider',
    title: 'Provider',
    fields: [
      fields.providerKind,
      fields.providerName,
      fields.apiKeyHeader,
      fields.apiKeyQuery,
      fields.authScheme,
      fields.tokenUrl,
      fields.clientId,
      fields.providerScopes,
      fields.audience,
      fields.allowedHosts,
      fields.credential,
    ],
  },
  commonSteps.policy,
  commonSteps.review,
];

/** The `third-party-provider` scenario: a provider whose credential the Gateway injects, before the resource that uses it. */
export const thirdPartyProviderScenario: ScenarioContribution = {
  id: SCENARIO,
  title: 'Third-party provider',
  description: 'Call a third-party API (an LLM or SaaS API) through the Gateway: it adds the API\'s credential to each call, so the agent never sees it',
  steps,
  plan: planThirdPartyProvider,
};

/** The pure plan: zone, app, provider, the resource that uses it, the starter policy and set. */
export function planThirdPartyProvider(input: ScenarioInput): ScenarioPlan {
  const answers = answerReader(SCENARIO, input, steps);
  const common = readCommonAnswers(answers, input);
  const kind = answers.required(fields.providerKind, text) as ProviderKind;
  const config = providerConfig(kind, answers);
  const problem = configProblem(kind, config);
  if (problem !== undefined) throw new CaracalError('CRC_VALIDATION', `the ${kind} provider: ${problem}`);
  // The control plane refuses such a resource too, but only after the zone, app and provider exist.
  const allowed = allowedHostsOf(config);
  const upstream = new URL(common.upstream);
  if (!isHostAllowed(allowed, upstream)) {
    throw new CaracalError('CRC_USAGE', `the upstream host ${hostEntryOf(upstream)} is not among the allowed hosts (${allowed.join(', ')}), so the Gateway would never send the credential there`, {
      hint: `add it: --allowed-hosts ${[...allowed, hostEntryOf(upstream)].join(',')}, or fix --upstream`,
    });
  }
  const secret = answers.optional(fields.credential, text);
  const provider: PlannedObject = {
    kind: 'provider',
    ref: 'provider',
    spec: {
      zone: { $ref: 'zone' },
      name: answers.optional(fields.providerName, text) ?? common.slug,
      kind,
      // Normalised by the admin API's schema (defaults applied), so a re-run compares like with like.
      config: providerSchemas().config[kind].parse(config),
      // Secret values: a plan holding them is never printed or stored (core/setup/execute.ts sends them once).
      ...(secret === undefined ? {} : { credentials: providerCredentials(kind, secret) }),
    },
  };
  return planOneResource(SCENARIO, common, provider);
}

/** The provider's non-secret config from the answers that apply to its kind (the console's Providers view reads its form with it too). */
export function providerConfig(kind: ProviderKind, answers: ReturnType<typeof answerReader>): Record<string, unknown> {
  const allowed = answers.optional(fields.allowedHosts, list);
  const base = allowed === undefined ? {} : { allowed_hosts: allowed };
  const scheme = answers.optional(fields.authScheme, text);
  switch (kind) {
    case 'api-key': {
      const header = answers.optional(fields.apiKeyHeader, text);
      const query = answers.optional(fields.apiKeyQuery, text);
      if ((header === undefined) === (query === undefined)) {
        throw new CaracalError('CRC_USAGE', `an api-key provider sends the key in one place: give either ${fields.apiKeyHeader.label} (--api-key-header, e.g. X-Api-Key) or ${fields.apiKeyQuery.label} (--api-key-query, e.g. api_key)${header === undefined ? '' : ', not both'}`);
      }
      if (query !== undefined && scheme !== undefined) {
        throw new CaracalError('CRC_USAGE', `${fields.authScheme.label} applies only to a key sent in a header: drop --auth-scheme, or send the key with --api-key-header`);
      }
      return { ...base, ...(header === undefined ? { query } : { header }), ...(scheme === undefined ? {} : { scheme }) };
    }
    case 'bearer':
      return { ...base, ...(scheme === undefined ? {} : { scheme }) };
    case 'basic':
      return base;
    case 'oauth2-client-credentials': {
      const scopes = answers.optional(fields.providerScopes, list);
      const audience = answers.optional(fields.audience, text);
      return {
        ...base,
        token_url: answers.required(fields.tokenUrl, text),
        client_id: answers.required(fields.clientId, text),
        ...(scopes === undefined ? {} : { scopes: [...new Set(scopes)] }),
        ...(audience === undefined ? {} : { audience }),
      };
    }
  }
}

/**
 * The write-only credentials of a kind from the credential text, in the format `caracal providers
 * set-credentials` reads (one parser), checked with the admin API's schema; never echoed.
 */
function providerCredentials(kind: ProviderKind, secret: string): Readonly<Record<string, string>> {
  const credentials = parseCredentialFile(kind, secret);
  const parsed = providerSchemas().credentials[kind].safeParse(credentials);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'credential'}: ${i.message}`).join('; ');
    throw new CaracalError('CRC_USAGE', `the ${kind} credential is not usable (${problems})`, { hint: fields.credential.help });
  }
  return credentials;
}
