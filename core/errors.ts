/**
 * The one error catalog. Every failure Caracal reports has a stable code `CRC_<AREA>_<WHAT>`,
 * a message that names the subject and the fix, an optional `cause`, and, from the table below,
 * the HTTP status an API answers with and the exit code the CLI returns.
 */

/** Exit codes of the CLI (sysexits-inspired, stable). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  denied: 5,
  unavailable: 6,
  dataError: 7,
  config: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

interface CodeInfo {
  readonly status: number;
  readonly exit: ExitCode;
}

/** Every error code with its HTTP status and CLI exit code. Add codes here, nowhere else. */
export const errorCodes = {
  CRC_INTERNAL: { status: 500, exit: ExitCode.failure },
  CRC_USAGE: { status: 400, exit: ExitCode.usage },
  CRC_VALIDATION: { status: 422, exit: ExitCode.dataError },
  CRC_BAD_REQUEST: { status: 400, exit: ExitCode.usage },
  CRC_NOT_FOUND: { status: 404, exit: ExitCode.notFound },
  CRC_CONFLICT: { status: 409, exit: ExitCode.conflict },
  CRC_UNAUTHORIZED: { status: 401, exit: ExitCode.denied },
  CRC_FORBIDDEN: { status: 403, exit: ExitCode.denied },
  CRC_PAYLOAD_TOO_LARGE: { status: 413, exit: ExitCode.dataError },
  CRC_UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: ExitCode.usage },
  CRC_RATE_LIMITED: { status: 429, exit: ExitCode.unavailable },
  CRC_HOME_UNUSABLE: { status: 500, exit: ExitCode.config },
  CRC_CONFIG_INVALID: { status: 500, exit: ExitCode.config },
  CRC_STORE_OPEN: { status: 503, exit: ExitCode.config },
  CRC_STORE_CORRUPT: { status: 503, exit: ExitCode.dataError },
  CRC_STORE_READONLY: { status: 503, exit: ExitCode.config },
  CRC_STORE_MIGRATION: { status: 503, exit: ExitCode.dataError },
  CRC_CRYPTO_TAMPERED: { status: 500, exit: ExitCode.dataError },
  CRC_CRYPTO_KEY: { status: 500, exit: ExitCode.config },
  CRC_POLICY_INVALID: { status: 422, exit: ExitCode.dataError },
  CRC_PLUGIN_INVALID: { status: 500, exit: ExitCode.config },
  CRC_PLUGIN_LOAD: { status: 500, exit: ExitCode.config },
  CRC_PLUGIN_VERSION: { status: 500, exit: ExitCode.config },
  CRC_PLUGIN_HOOK_FAILED: { status: 500, exit: ExitCode.failure },
  CRC_PLUGIN_HOOK_TIMEOUT: { status: 504, exit: ExitCode.failure },
  CRC_PLUGIN_INSTALL: { status: 500, exit: ExitCode.failure },
  CRC_AUDIT_CHAIN_BROKEN: { status: 500, exit: ExitCode.dataError },
  CRC_AUDIT_RECORD_FAILED: { status: 503, exit: ExitCode.unavailable },
  CRC_AUDIT_SINK_FAILED: { status: 500, exit: ExitCode.failure },
  CRC_AUDIT_DROPPED: { status: 503, exit: ExitCode.unavailable },
  CRC_PROFILE_INVALID: { status: 500, exit: ExitCode.config },
  CRC_SERVICE_UNAVAILABLE: { status: 503, exit: ExitCode.unavailable },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof errorCodes;

export interface CaracalErrorOptions {
  readonly cause?: unknown;
  /** Structured, secret-free details (field errors, line numbers, subject IDs). */
  readonly details?: unknown;
  /** How to fix it, when the message alone does not say. */
  readonly hint?: string;
}

/** An error with a stable code; the message names the subject and the fix, never a secret. */
export class CaracalError extends Error {
  override readonly name = 'CaracalError';
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: CaracalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.hint = options.hint;
  }

  /** The HTTP status an API answers with for this error. */
  get status(): number {
    return errorCodes[this.code].status;
  }

  /** The exit code the CLI returns for this error. */
  get exitCode(): ExitCode {
    return errorCodes[this.code].exit;
  }
}

/** Whether a value is a CaracalError (optionally with a given code). */
export function isCaracalError(value: unknown, code?: ErrorCode): value is CaracalError {
  return value instanceof CaracalError && (code === undefined || value.code === code);
}

/** Wraps any thrown value as a CaracalError, keeping CaracalErrors as they are. */
export function toCaracalError(value: unknown, code: ErrorCode = 'CRC_INTERNAL'): CaracalError {
  if (value instanceof CaracalError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new CaracalError(code, message, { cause: value });
}
