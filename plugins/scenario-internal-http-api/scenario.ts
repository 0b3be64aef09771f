import { isResourceId, normalizeResourceId } from '../../core/domain/ids.js';
import { CaracalError } from '../../core/errors.js';
import type { Field, FieldValue, ScenarioContribution, ScenarioInput, ScenarioPlan } from '../../core/plugin/types.js';
import { credentialEnvName } from '../../core/profile/env-name.js';

const ZONE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
// RFC 6749 §3.3 scope-token.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;
// The admin API's display names: printable, no surrounding spaces, at most 128 characters.
const APP_NAME = /^\S(?:[^\p{Cc}]*\S)?$/u;

const text = (value: FieldValue | undefined): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
const list = (value: FieldValue | undefined): readonly string[] | undefined => {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  const cleaned = items?.map((s: string) => s.trim()).filter((s: string) => s !== '');
  return cleaned === undefined || cleaned.length === 0 ? undefined : cleaned;
};

function upstreamProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value.slice(0, 100)}" is not a URL: give the upstream's base URL, e.g. http://127.0.0.1:4780`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'the upstream URL must start with http:// or https://';
  if (url.username !== '' || url.password !== '') return 'the upstream URL must not carry a user name or password (use a provider for credentials)';
  if (url.search !== '' || url.hash !== '') return 'the upstream URL must not have a query or fragment: the Gateway appends each request\'s own path and query';
  return undefined;
}

const fields = {
  zone: {
    name: 'zone',
    label: 'Zone',
    help: 'A zone to create (an evaluation zone: loopback and private upstreams allowed) or an existing zone to use, by name',
    kind: 'text',
    required: true,
    default: 'local',
    validate: (v) => (typeof v === 'string' && ZONE_NAME.test(v) ? undefined : 'a zone name is 1–63 lowercase letters, digits, ".", "_" or "-"'),
  },
  app: {
    name: 'app',
    label: 'Agent app',
    help: 'The confidential app your workload runs as; created with a client secret shown once',
    kind: 'text',
    required: true,
    default: 'agent',
    validate: (v) => (typeof v === 'string' && v.length <= 128 && APP_NAME.test(v) && !/^app_[0-9A-Z]{26}$/.test(v) ? undefined : 'an app name is 1–128 printable characters without surrounding spaces'),
  },
  resource: {
    name: 'resource',
    label: 'Resource ID',
    help: 'The stable ID of the protected API: resource://<slug> or a bare slug, e.g. billing-api',
    kind: 'text',
    required: true,
    validate: (v) => (typeof v === 'string' && isResourceId(v) ? undefined : 'use resource://<slug> or a bare slug of lowercase letters, digits, ".", "_" and "-"'),
  },
  scopes: {
    name: 'scopes',
    label: 'Scopes',
    help: 'The scopes the resource defines and the app gets, comma-separated, e.g. billing:read,billing:write',
    kind: 'list',
    required: true,
    validate: (v) => {
      const scopes = list(v);
      if (scopes === undefined) return 'name at least one scope, e.g. billing:read';
      const bad = scopes.find((s) => !SCOPE.test(s));
      return bad === undefined ? undefined : `"${bad}" is not a scope: printable ASCII without spaces, quotes or backslashes`;
    },
  },
  upstream: {
    name: 'upstream',
    label: 'Upstream URL',
    help: 'Where the Gateway forwards calls for this resource, e.g. http://127.0.0.1:4780 (caracal demo-upstream)',
    kind: 'text',
    required: true,
    validate: (v) => (typeof v === 'string' ? upstreamProblem(v) : 'give the upstream URL'),
  },
  firstPath: {
    name: 'firstPath',
    label: 'First request path',
    help: 'A path to try first through the Gateway (used in the first-success commands)',
    kind: 'text',
    required: false,
    default: '/',
    validate: (v) => (typeof v === 'string' && /^\/[\x21-\x7e]{0,2047}$/.test(v) ? undefined : 'a path starts with "/" and is printable ASCII without spaces'),
  },
  policy: {
    name: 'policy',
    label: 'Create and activate the starter policy',
    help: 'Allows the app its scopes on the resource (every method and path). Without it, tokens are refused until you activate a policy',
    kind: 'boolean',
    required: false,
    default: true,
  },
  writeProfile: {
    name: 'writeProfile',
    label: 'Write the profile and secret file',
    help: 'Writes the runtime profile (TOML) and an owner-only secret file to the config dir',
    kind: 'boolean',
    required: false,
    default: false,
  },
} as const satisfies Record<string, Field>;

/** The `internal-http-api` scenario (DESIGN.md §1): a zone, an app, a resource behind the Gateway, a starter policy. */
export const internalHttpApiScenario: ScenarioContribution = {
  id: 'internal-http-api',
  title: 'Internal HTTP API',
  description: 'Put an HTTP API you run behind the Gateway: the app calls it with short-lived tokens; no upstream credentials are injected',
  steps: [
    { id: 'zone', title: 'Zone', fields: [fields.zone] },
    { id: 'app', title: 'Agent app', fields: [fields.app] },
    { id: 'resource', title: 'Resource', fields: [fields.resource, fields.scopes, fields.upstream, fields.firstPath] },
    { id: 'policy', title: 'Access policy', fields: [fields.policy] },
    { id: 'review', title: 'Review', fields: [fields.writeProfile] },
  ],
  plan: planInternalHttpApi,
};

/** The pure plan: objects in dependency order, the starter policy, the profile credential, the first request. */
export function planInternalHttpApi(input: ScenarioInput): ScenarioPlan {
  const value = <T>(field: Field, read: (v: FieldValue | undefined) => T | undefined): T => {
    const raw = input[field.name] ?? field.default;
    const parsed = read(raw);
    if (parsed === undefined) {
      throw new CaracalError('CRC_USAGE', `the internal-http-api scenario needs "${field.name}": ${field.help}`);
    }
    const problem = field.validate?.(raw as FieldValue);
    if (problem !== undefined) throw new CaracalError('CRC_VALIDATION', `${field.label}: ${problem}`);
    return parsed;
  };
  const zone = value(fields.zone, text);
  const app = value(fields.app, text);
  const resource = normalizeResourceId(value(fields.resource, text));
  const scopes = [...new Set(value(fields.scopes, list))];
  const upstream = value(fields.upstream, text).replace(/\/+$/, '');
  const firstPath = value(fields.firstPath, text);
  const withPolicy = input.policy ?? fields.policy.default;
  const slug = resource.slice('resource://'.length);
  const policyName = `starter-${app}-${slug}`.slice(0, 128);
  const zoneRef = { $ref: 'zone' };
  const rules = [
    { id: 'starter', effect: 'allow' as const, apps: ['$ref:application'], resources: [resource], scopes, methods: ['*'], paths: ['/**'] },
  ];
  return {
    scenario: 'internal-http-api',
    objects: [
      { kind: 'zone', ref: 'zone', spec: { name: zone, kind: 'evaluation' } },
      { kind: 'application', ref: 'application', spec: { zone: zoneRef, name: app } },
      { kind: 'resource', ref: 'resource', spec: { zone: zoneRef, id: resource, name: slug, scopes, upstream_url: upstream } },
      ...(withPolicy === false
        ? []
        : [
            { kind: 'policy' as const, ref: 'policy', spec: { zone: zoneRef, name: policyName, starter: { app: { $ref: 'application' }, resource, scopes } } },
            // Activating a set that held only this policy would drop every other grant of the zone,
            // so an active set is extended with a new version instead (see core/setup/execute.ts).
            { kind: 'policy_set' as const, ref: 'policy_set', spec: { zone: zoneRef, name: 'starter', policies: [{ $ref: 'policy' }], extend_active: true, activate: true } },
          ]),
    ],
    policy: withPolicy === false ? null : { name: policyName, rules },
    credentials: [{ resource, scopes, env: credentialEnvName(resource) }],
    firstRequest: { resource, method: 'GET', path: firstPath },
  };
}
