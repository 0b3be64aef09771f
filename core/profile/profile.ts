import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { isId, isResourceId, normalizeResourceId } from '../domain/ids.js';
import { CaracalError } from '../errors.js';
import { toPointer, tomlLocator } from '../policy/locate.js';
import { envNameProblem } from './env-name.js';

/**
 * The runtime profile (DESIGN.md §8): which app a workload runs as, where the control plane and the
 * Gateway are, where the app's secret lives, and which tokens `caracal run` hands to the child.
 * Parsing is pure; every problem is reported at once with its line and column.
 */

/** One token the profile asks for: a resource, its scopes, and the variable that carries it. */
export interface ProfileCredential {
  /** `resource://<slug>` (a bare slug in the file is normalised). */
  readonly resource: string;
  /** Requested scopes; empty lets the token service grant what the policy allows. */
  readonly scopes: readonly string[];
  readonly env: string;
}

/** A validated profile. Paths are absolute (a relative secret-file path is relative to the profile). */
export interface Profile {
  /** The file it was read from (or will be written to). */
  readonly path: string;
  readonly zoneId: string;
  readonly applicationId: string;
  readonly controlUrl: string;
  readonly gatewayUrl: string;
  readonly clientSecretFile: string;
  /** A runtime plugin ID (`env`, `file`, `proxy`, …). */
  readonly runtime: string;
  readonly credentials: readonly ProfileCredential[];
}

/** One problem in a profile, at a 1-based line and column. */
export interface ProfileProblem {
  readonly line: number;
  readonly column: number;
  readonly pointer: string;
  readonly message: string;
}

const profileKeys = ['version', 'zone_id', 'application_id', 'control_url', 'gateway_url', 'client_secret_file', 'runtime', 'credentials'] as const;
const credentialKeys = ['resource', 'scopes', 'env'] as const;
// RFC 6749 §3.3 scope-token.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;
const RUNTIME_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const str = (key: string) => z.string({ error: `"${key}" must be a string in quotes` });
const httpUrl = (key: string) =>
  str(key).refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
      } catch {
        return false;
      }
    },
    { error: `"${key}" must be an http:// or https:// URL without user name or password, e.g. "http://127.0.0.1:4700"` },
  );

const credentialSchema = z.strictObject({
  resource: str('resource').refine(isResourceId, { error: '"resource" must be resource://<slug> or a bare slug (lowercase letters, digits, ".", "_", "-")' }),
  scopes: z
    .array(str('scopes[]').regex(SCOPE, { error: 'a scope is printable ASCII without spaces, quotes or backslashes' }), {
      error: '"scopes" must be a list of strings, e.g. scopes = ["billing:read"]',
    })
    .default([]),
  env: str('env').superRefine((value, ctx) => {
    const problem = envNameProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
});

const profileSchema = z.strictObject({
  version: z.literal(1, { error: '"version" must be 1 (the only profile format so far)' }),
  zone_id: str('zone_id').refine((v) => isId('zone', v), { error: '"zone_id" must be a zone ID such as "zn_01J…" (see `caracal zones list`)' }),
  application_id: str('application_id').refine((v) => isId('app', v), { error: '"application_id" must be an app ID such as "app_01J…" (see `caracal apps list`)' }),
  control_url: httpUrl('control_url'),
  gateway_url: httpUrl('gateway_url'),
  client_secret_file: str('client_secret_file').min(1, { error: '"client_secret_file" must name the file holding the app secret' }),
  runtime: str('runtime').regex(RUNTIME_ID, { error: '"runtime" must be a runtime ID such as "env", "file" or "proxy"' }).default('env'),
  credentials: z
    .array(credentialSchema, { error: 'add at least one [[credentials]] table (resource, scopes, env)' })
    .min(1, { error: 'add at least one [[credentials]] table (resource, scopes, env)' }),
});

/** Parses and validates a profile's text; throws CRC_PROFILE_INVALID listing every problem with its line. */
export function parseProfile(text: string, path: string): Profile {
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (error) {
    const line = error instanceof TomlError ? error.line : 1;
    const column = error instanceof TomlError ? error.column : 1;
    const reason = (error as Error).message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'syntax error';
    throw invalidProfile(path, [{ line, column, pointer: '', message: `TOML syntax error: ${reason}` }], error);
  }
  const parsed = profileSchema.safeParse(data);
  const locate = tomlLocator(text);
  const problems: ProfileProblem[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const pointer = toPointer(path.map((p) => (typeof p === 'number' ? p : String(p))));
    problems.push({ ...locate(pointer), pointer, message });
  };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const allowed: readonly string[] = issue.path.length === 0 ? profileKeys : credentialKeys;
        for (const key of issue.keys) {
          const suggestion = closest(key, allowed);
          add([...issue.path, key], `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed keys: ${allowed.join(', ')}`);
        }
      } else if (valueAt(data, issue.path) === undefined && typeof issue.path[issue.path.length - 1] === 'string') {
        add(issue.path, `missing required key "${String(issue.path[issue.path.length - 1])}"`);
      } else {
        add(issue.path, issue.message);
      }
    }
  } else {
    // Each variable carries one token and each resource has one token: duplicates are ambiguous.
    const seenEnv = new Map<string, number>();
    const seenResource = new Map<string, number>();
    parsed.data.credentials.forEach((credential, index) => {
      const resource = normalizeResourceId(credential.resource);
      const envAt = seenEnv.get(credential.env);
      if (envAt !== undefined) add(['credentials', index, 'env'], `"${credential.env}" is already used by credentials #${envAt + 1}: give each credential its own variable`);
      const resourceAt = seenResource.get(resource);
      if (resourceAt !== undefined) add(['credentials', index, 'resource'], `${resource} is already listed by credentials #${resourceAt + 1}: list each resource once, with all its scopes`);
      seenEnv.set(credential.env, index);
      seenResource.set(resource, index);
    });
  }
  if (problems.length > 0 || !parsed.success) throw invalidProfile(path, problems);
  const p = parsed.data;
  const secretFile = isAbsolute(p.client_secret_file) ? p.client_secret_file : resolve(dirname(path), p.client_secret_file);
  return {
    path,
    zoneId: p.zone_id,
    applicationId: p.application_id,
    controlUrl: p.control_url.replace(/\/+$/, ''),
    gatewayUrl: p.gateway_url.replace(/\/+$/, ''),
    clientSecretFile: secretFile,
    runtime: p.runtime,
    credentials: p.credentials.map((c) => ({ resource: normalizeResourceId(c.resource), scopes: c.scopes, env: c.env })),
  };
}

/** Renders a profile as the TOML `caracal setup` writes (round-trips through parseProfile). */
export function renderProfile(profile: Omit<Profile, 'path'>): string {
  const s = (value: string) => JSON.stringify(value);
  const lines = [
    '# Caracal runtime profile, written by `caracal setup` (see docs/profile.md).',
    '# Use it with: CARACAL_CONFIG=<this file> caracal run -- <command>',
    'version = 1',
    `zone_id = ${s(profile.zoneId)}`,
    `application_id = ${s(profile.applicationId)}`,
    `control_url = ${s(profile.controlUrl)}`,
    `gateway_url = ${s(profile.gatewayUrl)}`,
    `client_secret_file = ${s(profile.clientSecretFile)}  # owner-only (0600); refused otherwise`,
    `runtime = ${s(profile.runtime)}  # env | file | proxy`,
  ];
  for (const credential of profile.credentials) {
    lines.push('', '[[credentials]]', `resource = ${s(credential.resource)}`, `scopes = [${credential.scopes.map(s).join(', ')}]`, `env = ${s(credential.env)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The CRC_PROFILE_INVALID error: `file:line:column: problem` per line, and how to fix it. */
export function invalidProfile(path: string, problems: readonly ProfileProblem[], cause?: unknown): CaracalError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
  const list = sorted.map((p) => `  ${path}:${p.line}:${p.column}: ${p.message}`).join('\n');
  return new CaracalError('CRC_PROFILE_INVALID', `the profile ${path} is invalid (${count}):\n${list}`, {
    details: sorted,
    hint: 'fix the lines above (docs/profile.md lists every key), or write a fresh profile with `caracal setup … --write-profile --overwrite`',
    ...(cause === undefined ? {} : { cause }),
  });
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
