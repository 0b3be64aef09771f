/**
 * The `acme-weather` guided-setup scenario: a preset of the built-in third-party-provider scenario
 * for one SaaS API (the fictional Acme Weather API, which takes an API key in `X-Acme-Key`). The
 * user answers four questions; everything else (resource ID, scope, provider kind and header) is
 * fixed by the preset. The console renders the steps; `caracal setup --scenario acme-weather`
 * turns each field into a flag (`upstream` → --upstream, the secret `credential` → --credential-file).
 *
 * `plan()` is pure: it returns the objects to create as data, in creation order, and a later
 * object names an earlier one as `{ $ref: '<ref>' }` (its ID exists only once created).
 */

const RESOURCE = 'resource://acme-weather';
const SCOPES = ['weather:read'];
const ZONE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** @type {import('caracal/plugin').Field[]} */
const fields = [
  {
    name: 'zone',
    label: 'Zone',
    help: 'A zone to create (an evaluation zone) or an existing zone to use, by name',
    kind: 'text',
    required: true,
    default: 'local',
    validate: (v) => (typeof v === 'string' && ZONE_NAME.test(v) ? undefined : 'a zone name is 1–63 lowercase letters, digits, ".", "_" or "-"'),
  },
  {
    name: 'app',
    label: 'Agent app',
    help: 'The confidential app your workload runs as; created with a client secret shown once',
    kind: 'text',
    required: true,
    default: 'agent',
    validate: (v) => (typeof v === 'string' && /^\S(?:.{0,126}\S)?$/.test(v) ? undefined : 'an app name is 1–128 characters without surrounding spaces'),
  },
  {
    name: 'upstream',
    label: 'Acme Weather API URL',
    help: 'The Acme Weather API base URL (change it only for a test double)',
    kind: 'text',
    required: true,
    default: 'https://api.acme-weather.example/v2',
    validate: (v) => upstreamProblem(String(v)),
  },
  {
    name: 'credential',
    label: 'Acme API key',
    help: 'Your Acme Weather API key, one line, from a file or stdin; required the first time, a re-run without it keeps the stored key',
    kind: 'secret',
    required: false,
    // Never put the value itself into a message.
    validate: (v) => (typeof v === 'string' && /^[\x21-\x7e]{8,512}$/.test(v) ? undefined : 'an Acme API key is 8–512 printable characters without spaces'),
  },
  {
    name: 'writeProfile',
    label: 'Write the profile and secret file',
    help: 'Writes the runtime profile (TOML) and an owner-only secret file to the config dir',
    kind: 'boolean',
    required: false,
    default: false,
  },
];

/** @param {string} value @returns {string | undefined} */
function upstreamProblem(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return `"${value.slice(0, 100)}" is not a URL, e.g. https://api.acme-weather.example/v2`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'the URL must start with https:// (or http:// for a local test double)';
  if (url.search !== '' || url.hash !== '' || url.username !== '') return 'give the base URL only, without query, fragment or user name';
  return undefined;
}

/**
 * Reads one answer (or its default) and checks it with the field's own validator.
 * @param {import('caracal/plugin').ScenarioInput} input
 * @param {string} name
 */
function answer(input, name) {
  const field = /** @type {import('caracal/plugin').Field} */ (fields.find((f) => f.name === name));
  const value = input[name] ?? field.default;
  if (value === undefined || value === '') {
    if (field.required) throw new Error(`the acme-weather scenario needs "${name}": ${field.help}`);
    return undefined;
  }
  const problem = field.validate?.(value);
  if (problem !== undefined) throw new Error(`${field.label}: ${problem}`);
  return value;
}

/** @type {import('caracal/plugin').ScenarioContribution} */
export const acmeWeatherScenario = {
  id: 'acme-weather',
  title: 'Acme Weather API (example plugin)',
  description: 'Call the Acme Weather API through the Gateway: Caracal keeps the API key and adds it to each call, so the agent never sees it',
  steps: [
    { id: 'zone', title: 'Zone', fields: [fields[0]] },
    { id: 'app', title: 'Agent app', fields: [fields[1]] },
    { id: 'acme', title: 'Acme Weather', fields: [fields[2], fields[3]] },
    { id: 'review', title: 'Review', fields: [fields[4]] },
  ],
  plan(input) {
    const zone = String(answer(input, 'zone'));
    const app = String(answer(input, 'app'));
    const upstream = String(answer(input, 'upstream')).replace(/\/+$/, '');
    const key = answer(input, 'credential');
    const zoneRef = { $ref: 'zone' };
    const policyName = `starter-${app}-acme-weather`.slice(0, 128);
    return {
      scenario: 'acme-weather',
      objects: [
        { kind: 'zone', ref: 'zone', spec: { name: zone, kind: 'evaluation' } },
        { kind: 'application', ref: 'application', spec: { zone: zoneRef, name: app } },
        {
          kind: 'provider',
          ref: 'provider',
          spec: {
            zone: zoneRef,
            name: 'acme-weather',
            kind: 'api-key',
            // The key may go to the API's own host only.
            config: { header: 'x-acme-key', allowed_hosts: [new URL(upstream).host] },
            // Write-only: sent once to the control plane, sealed there, never shown again.
            ...(typeof key === 'string' ? { credentials: { api_key: key } } : {}),
          },
        },
        { kind: 'resource', ref: 'resource', spec: { zone: zoneRef, id: RESOURCE, name: 'acme-weather', scopes: SCOPES, upstream_url: upstream, provider: { $ref: 'provider' } } },
        { kind: 'policy', ref: 'policy', spec: { zone: zoneRef, name: policyName, starter: { app: { $ref: 'application' }, resource: RESOURCE, scopes: SCOPES } } },
        { kind: 'policy_set', ref: 'policy_set', spec: { zone: zoneRef, name: 'starter', policies: [{ $ref: 'policy' }], extend_active: true, activate: true } },
      ],
      policy: {
        name: policyName,
        rules: [{ id: 'starter', effect: 'allow', apps: ['$ref:application'], resources: [RESOURCE], scopes: SCOPES, methods: ['*'], paths: ['/**'] }],
      },
      credentials: [{ resource: RESOURCE, scopes: SCOPES, env: 'CARACAL_ACME_WEATHER_TOKEN' }],
      firstRequest: { resource: RESOURCE, method: 'GET', path: '/forecast' },
    };
  },
};
