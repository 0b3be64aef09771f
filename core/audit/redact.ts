import type { AuditEventInput, AuditHttp } from './event.js';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Detail keys whose values are secrets, whatever the value looks like. */
const SECRET_KEY = /secret|password|token|authorization|cookie|credential|api[-_]?key|private/i;

/*
 * Values that are secrets wherever they appear:
 * - a JWT/JWS (compact form: three base64url parts; the header is JSON, so it starts with `eyJ`),
 * - an app client secret (`cs_` + base64url of 32 bytes, DESIGN.md §3),
 * - an HTTP `Basic …` or `Bearer …` credential (RFC 7617, RFC 6750; scheme names are case-insensitive),
 *   at least 8 characters long so that prose such as "missing bearer token" stays readable.
 * Only the matching part of a longer string is masked, so the rest of a message stays readable.
 */
const SECRET_VALUE_SOURCES = [
  String.raw`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`,
  String.raw`(?<![A-Za-z0-9])cs_[A-Za-z0-9_-]{16,}`,
  String.raw`\b(?:basic|bearer)\s+[A-Za-z0-9._~+/-]{8,}=*`,
];
const SECRET_VALUE_TEST = new RegExp(SECRET_VALUE_SOURCES.join('|'), 'i');
const SECRET_VALUE_REPLACE = new RegExp(SECRET_VALUE_SOURCES.join('|'), 'gi');

/** Nesting deeper than this in `detail` is cut off (a cycle or a pathological value). */
const MAX_DEPTH = 32;

/** Masks secret-looking substrings of a string; returns the same string when there are none. */
export function redactString(value: string): string {
  return SECRET_VALUE_TEST.test(value) ? value.replace(SECRET_VALUE_REPLACE, REDACTED) : value;
}

/**
 * Removes secrets from an event before the recorder or any sink sees it. In `detail` (at any
 * depth) a value under a secret-sounding key becomes `[redacted]` and secret-looking strings are
 * masked; the free-text fields a client can influence (request ID, app, resource, reason, scopes,
 * HTTP path) are masked the same way. Returns the input itself when nothing needed masking: the
 * common case copies nothing, and one regex scan of the free-text fields joined decides it.
 */
export function redact(input: AuditEventInput): AuditEventInput {
  if (!mayHoldSecrets(input)) return input;
  let out: { -readonly [K in keyof AuditEventInput]: AuditEventInput[K] } | undefined;
  const set = <K extends keyof AuditEventInput>(key: K, value: AuditEventInput[K]): void => {
    out ??= { ...input };
    out[key] = value;
  };

  const requestId = redactString(input.request_id);
  if (requestId !== input.request_id) set('request_id', requestId);
  for (const key of ['app', 'resource', 'reason'] as const) {
    const value = input[key];
    if (typeof value === 'string') {
      const masked = redactString(value);
      if (masked !== value) set(key, masked);
    }
  }
  if (input.scopes !== undefined) {
    const scopes = redactArray(input.scopes, (s) => redactString(s));
    if (scopes !== input.scopes) set('scopes', scopes);
  }
  if (input.http) {
    const path = redactString(input.http.path);
    if (path !== input.http.path) set('http', { ...input.http, path } satisfies AuditHttp);
  }
  if (input.detail !== undefined) {
    const detail = redactObject(input.detail, 0);
    if (detail !== input.detail) set('detail', detail);
  }
  return out ?? input;
}

/**
 * Whether redact has anything to look at: a non-empty detail, or a secret-looking value in the
 * free-text fields, tested in one scan of them joined by newlines (what matches in one field
 * matches in the joined text, as a newline is no word character; a match across two fields only
 * costs the field-by-field look).
 */
function mayHoldSecrets(input: AuditEventInput): boolean {
  if (input.detail !== undefined) for (const key in input.detail) if (Object.hasOwn(input.detail, key)) return true;
  let text = '';
  for (const value of [input.request_id, input.app, input.resource, input.reason, input.http?.path]) {
    if (typeof value === 'string') text += `${value}\n`;
  }
  if (input.scopes !== undefined) for (const scope of input.scopes) text += `${scope}\n`;
  return SECRET_VALUE_TEST.test(text);
}

/** Redacts any JSON-like value found in `detail`; returns it unchanged when nothing is secret. */
function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return redactArray(value as readonly unknown[], (v) => redactValue(v, depth + 1));
  if (!isPlainObject(value)) return value;
  return redactObject(value, depth);
}

function redactObject(value: Readonly<Record<string, unknown>>, depth: number): Readonly<Record<string, unknown>> {
  let out: Record<string, unknown> | undefined;
  for (const [key, child] of Object.entries(value)) {
    const next = SECRET_KEY.test(key) ? (child === undefined || child === null ? child : REDACTED) : redactValue(child, depth + 1);
    if (next !== child) {
      out ??= { ...value };
      out[key] = next;
    }
  }
  return out ?? value;
}

function redactArray<T>(values: readonly T[], map: (value: T) => T): readonly T[] {
  let out: T[] | undefined;
  values.forEach((value, i) => {
    const next = map(value);
    if (next !== value) {
      out ??= [...values];
      out[i] = next;
    }
  });
  return out ?? values;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
