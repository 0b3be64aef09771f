import { isId } from '../../domain/ids.js';
import type { IdKind } from '../../domain/ids.js';
import { CaracalError } from '../../errors.js';

/**
 * The few input checks the store itself owns (the API validates shapes with zod first; these
 * guard the invariants every caller relies on, whatever the caller).
 */

const MAX_NAME = 128;

/** A display name: 1–128 characters, no surrounding spaces, and not shaped like an ID of its kind. */
export function checkName(name: unknown, what: string, kind?: IdKind): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME || name.trim() !== name) {
    throw new CaracalError(
      'CRC_VALIDATION',
      `A ${what} name must be 1–${MAX_NAME} characters without leading or trailing spaces.`,
      { details: { field: 'name' } },
    );
  }
  // Lookups accept an ID or a name; a name that looks like an ID would make that ambiguous.
  if (kind !== undefined && isId(kind, name)) {
    throw new CaracalError('CRC_VALIDATION', `A ${what} name cannot have the form of a ${what} ID ("${name}").`, {
      details: { field: 'name' },
    });
  }
  return name;
}

/** A list of non-empty strings (scopes, hosts, credential field names). */
export function checkStrings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new CaracalError('CRC_VALIDATION', `${field} must be a list of non-empty strings.`, { details: { field } });
  }
  return [...(value as string[])];
}

/** An absolute http(s) URL. */
export function checkUpstreamUrl(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CaracalError(
      'CRC_VALIDATION',
      `The upstream URL must be an absolute http:// or https:// URL, got ${JSON.stringify(String(value).slice(0, 200))}.`,
      { details: { field: 'upstreamUrl' } },
    );
  }
  return value as string;
}

/** One of a fixed set of values. */
export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new CaracalError('CRC_VALIDATION', `${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}.`, {
      details: { field },
    });
  }
  return value as T;
}

/** A positive whole number (a version). */
export function checkVersion(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new CaracalError('CRC_VALIDATION', `${field} must be a whole number of at least 1, got ${JSON.stringify(value)}.`, {
      details: { field },
    });
  }
  return value;
}

/** A JSON object (not an array, not null). */
export function checkObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CaracalError('CRC_VALIDATION', `${field} must be an object.`, { details: { field } });
  }
  return value as Record<string, unknown>;
}

/** Whether a value is an array (narrowing-free, for inputs typed as arrays that may not be). */
export function isList(value: unknown): boolean {
  return Array.isArray(value);
}

/** A keyed secret hash (`scheme:hash`): refuses what looks like the secret itself. */
export function checkSecretHash(value: unknown): string {
  if (typeof value !== 'string' || !value.includes(':')) {
    throw new CaracalError('CRC_VALIDATION', 'An app needs the keyed hash of its secret (scheme:hash), never the secret itself.', {
      details: { field: 'secretHash' },
    });
  }
  return value;
}

/** A value sealed by core/crypto/seal.ts (`v<N>.…`): refuses plaintext secret material. */
export function checkSealed(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^v\d+\./.test(value)) {
    throw new CaracalError('CRC_VALIDATION', 'Secret material must be sealed (core/crypto/seal.ts) before it is stored.', {
      details: { field },
    });
  }
  return value;
}
