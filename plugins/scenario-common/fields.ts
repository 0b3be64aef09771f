import { isResourceId } from '../../core/domain/ids.js';
import type { Field, FieldValue, ScenarioStep } from '../../core/plugin/types.js';

/**
 * The guided-setup fields every scenario that puts one resource behind the Gateway asks (zone,
 * app, resource, access policy, review), shared so that each scenario's steps, flags and
 * messages stay the same. A scenario adds its own fields between them (e.g. a provider step).
 */

const ZONE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
// RFC 6749 §3.3 scope-token.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;
// The admin API's display names: printable, no surrounding spaces, at most 128 characters.
const APP_NAME = /^\S(?:[^\p{Cc}]*\S)?$/u;

/** A text answer, trimmed; undefined when empty or not text. */
export const text = (value: FieldValue | undefined): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** A list answer (a list, or comma-separated text), trimmed, without empty items; undefined when empty. */
export const list = (value: FieldValue | undefined): readonly string[] | undefined => {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  const cleaned = items?.map((s: string) => s.trim()).filter((s: string) => s !== '');
  return cleaned === undefined || cleaned.length === 0 ? undefined : cleaned;
};

/** Why a scope list is unusable, or undefined. */
export function scopesProblem(value: FieldValue, example: string): string | undefined {
  const scopes = list(value);
  if (scopes === undefined) return `name at least one scope, e.g. ${example}`;
  const bad = scopes.find((s) => !SCOPE.test(s));
  return bad === undefined ? undefined : `"${bad.slice(0, 100)}" is not a scope: printable ASCII without spaces, quotes or backslashes`;
}

/** Why an upstream base URL is unusable, or undefined. */
export function upstreamProblem(value: string): string | undefined {
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

/** The validator of a `choice` field: the answer must be one of its values. */
export function oneOf(choices: readonly { readonly value: string }[]): (value: FieldValue) => string | undefined {
  return (value) =>
    typeof value === 'string' && choices.some((c) => c.value === value) ? undefined : `"${String(value).slice(0, 100)}" is not one of ${choices.map((c) => c.value).join(', ')}`;
}

/** The shared fields; a scenario may override `help` (e.g. its own upstream example) by spreading one. */
export const commonFields = {
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
    validate: (v) => scopesProblem(v, 'billing:read'),
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

/** The shared steps, in guided-setup order around a scenario's own (DESIGN.md §1). */
export const commonSteps = {
  zone: { id: 'zone', title: 'Zone', fields: [commonFields.zone] },
  app: { id: 'app', title: 'Agent app', fields: [commonFields.app] },
  resource: { id: 'resource', title: 'Resource', fields: [commonFields.resource, commonFields.scopes, commonFields.upstream, commonFields.firstPath] },
  policy: { id: 'policy', title: 'Access policy', fields: [commonFields.policy] },
  review: { id: 'review', title: 'Review', fields: [commonFields.writeProfile] },
} as const satisfies Record<string, ScenarioStep>;
