import { dirname, isAbsolute, resolve } from 'node:path';
import { parseToml, TomlError } from '../toml.js';
import { isId, isResourceId, normalizeResourceId } from '../domain/ids.js';
import { CaracalError } from '../errors.js';
import { toPointer, tomlLocator } from '../policy/locate.js';
import { envNameProblem } from './env-name.js';
import { closestWord } from '../domain/closest.js';

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

type ProfileKey = 'version' | 'zone_id' | 'application_id' | 'control_url' | 'gateway_url' | 'client_secret_file' | 'runtime' | 'credentials';
type CredentialKey = 'resource' | 'scopes' | 'env';
// RFC 6749 §3.3 scope-token.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;
const RUNTIME_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const NO_CREDENTIALS = 'add at least one [[credentials]] table (resource, scopes, env)';

/** Checks a present value; returns what is wrong with it, or undefined. */
type Check = (value: unknown, key: string) => string | undefined;

const string: Check = (value, key) => (typeof value === 'string' ? undefined : `"${key}" must be a string in quotes`);
const matching = (test: (value: string) => boolean, message: string): Check => (value, key) => string(value, key) ?? (test(value as string) ? undefined : message);
const httpUrl: Check = (value, key) =>
  string(value, key) ??
  (() => {
    try {
      const url = new URL(value as string);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '') return undefined;
    } catch {
      // Not a URL: the same message.
    }
    return `"${key}" must be an http:// or https:// URL without user name or password, e.g. "http://127.0.0.1:4700"`;
  })();

/** The profile's top-level keys: whether each is required, and its check. */
const profileChecks: Record<ProfileKey, { required: boolean; check: Check }> = {
  version: { required: true, check: (v) => (v === 1 ? undefined : '"version" must be 1 (the only profile format so far)') },
  zone_id: { required: true, check: matching((v) => isId('zone', v), '"zone_id" must be a zone ID such as "zn_01J…" (see `caracal zones list`)') },
  application_id: { required: true, check: matching((v) => isId('app', v), '"application_id" must be an app ID such as "app_01J…" (see `caracal apps list`)') },
  control_url: { required: true, check: httpUrl },
  gateway_url: { required: true, check: httpUrl },
  client_secret_file: { required: true, check: matching((v) => v !== '', '"client_secret_file" must name the file holding the app secret') },
  runtime: { required: false, check: matching((v) => RUNTIME_ID.test(v), '"runtime" must be a runtime ID such as "env", "file" or "proxy"') },
  credentials: { required: true, check: (v) => (Array.isArray(v) && v.length > 0 ? undefined : NO_CREDENTIALS) },
};

const credentialChecks: Record<CredentialKey, { required: boolean; check: Check }> = {
  resource: { required: true, check: matching(isResourceId, '"resource" must be resource://<slug> or a bare slug (lowercase letters, digits, ".", "_", "-")') },
  scopes: { required: false, check: (v) => (Array.isArray(v) ? undefined : '"scopes" must be a list of strings, e.g. scopes = ["billing:read"]') },
  env: { required: true, check: (v, key) => string(v, key) ?? envNameProblem(v as string) },
};

const isTable = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);

/**
 * Parses and validates a profile's text; throws CRC_PROFILE_INVALID listing every problem with
 * its line. Validation is written out rather than a zod schema: zod is about a hundred modules,
 * which `caracal run` would load on every launch (docs/design.md, "Runtime profile").
 */
export function parseProfile(text: string, path: string): Profile {
  let data: Record<string, unknown>;
  try {
    data = parseToml(text);
  } catch (error) {
    const line = error instanceof TomlError ? error.line : 1;
    const column = error instanceof TomlError ? error.column : 1;
    const reason = (error as Error).message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'syntax error';
    throw invalidProfile(path, [{ line, column, pointer: '', message: `TOML syntax error: ${reason}` }], error);
  }
  const locate = tomlLocator(text);
  const problems: ProfileProblem[] = [];
  const add = (at: readonly (string | number)[], message: string) => {
    const pointer = toPointer(at);
    problems.push({ ...locate(pointer), pointer, message });
  };
  const checkTable = <K extends string>(table: Record<string, unknown>, at: readonly (string | number)[], checks: Record<K, { required: boolean; check: Check }>) => {
    const allowed = Object.keys(checks);
    for (const key of Object.keys(table)) {
      if (!allowed.includes(key)) {
        const suggestion = closestWord(key, allowed);
        add([...at, key], `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed keys: ${allowed.join(', ')}`);
      }
    }
    for (const key of allowed as K[]) {
      const value = table[key];
      if (value === undefined) {
        if (checks[key].required) add([...at, key], key === 'credentials' ? NO_CREDENTIALS : `missing required key "${key}"`);
        continue;
      }
      const problem = checks[key].check(value, key);
      if (problem !== undefined) add([...at, key], problem);
    }
  };

  checkTable(data, [], profileChecks);
  const credentials = Array.isArray(data.credentials) ? (data.credentials as unknown[]) : [];
  const seenEnv = new Map<string, number>();
  const seenResource = new Map<string, number>();
  credentials.forEach((credential, index) => {
    if (!isTable(credential)) return add(['credentials', index], 'each [[credentials]] entry must be a table with resource, scopes and env');
    checkTable(credential, ['credentials', index], credentialChecks);
    if (Array.isArray(credential.scopes)) {
      credential.scopes.forEach((scope: unknown, i: number) => {
        if (typeof scope !== 'string' || !SCOPE.test(scope)) add(['credentials', index, 'scopes', i], 'a scope is a string of printable ASCII without spaces, quotes or backslashes');
      });
    }
    // Each variable carries one token and each resource has one token: duplicates are ambiguous.
    if (typeof credential.env === 'string') {
      const at = seenEnv.get(credential.env);
      if (at !== undefined) add(['credentials', index, 'env'], `"${credential.env}" is already used by credentials #${at + 1}: give each credential its own variable`);
      seenEnv.set(credential.env, index);
    }
    if (typeof credential.resource === 'string' && isResourceId(credential.resource)) {
      const resource = normalizeResourceId(credential.resource);
      const at = seenResource.get(resource);
      if (at !== undefined) add(['credentials', index, 'resource'], `${resource} is already listed by credentials #${at + 1}: list each resource once, with all its scopes`);
      seenResource.set(resource, index);
    }
  });
  if (problems.length > 0) throw invalidProfile(path, problems);

  const secretFile = data.client_secret_file as string;
  return {
    path,
    zoneId: data.zone_id as string,
    applicationId: data.application_id as string,
    controlUrl: (data.control_url as string).replace(/\/+$/, ''),
    gatewayUrl: (data.gateway_url as string).replace(/\/+$/, ''),
    clientSecretFile: isAbsolute(secretFile) ? secretFile : resolve(dirname(path), secretFile),
    runtime: (data.runtime as string | undefined) ?? 'env',
    credentials: (credentials as Record<string, unknown>[]).map((c) => ({
      resource: normalizeResourceId(c.resource as string),
      scopes: (c.scopes as string[] | undefined) ?? [],
      env: c.env as string,
    })),
  };
}

/** Renders a profile as the TOML `caracal setup` writes (round-trips through parseProfile). */
/** The first line of every profile Caracal writes (`caracal purge` recognises its own files by it). */
export const PROFILE_HEADER = '# Caracal runtime profile, written by `caracal setup` (see docs/profile.md).';

export function renderProfile(profile: Omit<Profile, 'path'>): string {
  const s = (value: string) => JSON.stringify(value);
  const lines = [
    PROFILE_HEADER,
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
