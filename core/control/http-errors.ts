import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CaracalError, isCaracalError } from '../errors.js';

/** The JSON error body of the admin API: `{error, message, request_id, details}`. */
export interface ApiErrorBody {
  readonly error: string;
  readonly message: string;
  readonly request_id: string;
  readonly details?: unknown;
  readonly hint?: string;
}

/** Parses a value with a zod schema, or throws CRC_VALIDATION naming every bad field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const list = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  throw new CaracalError('CRC_VALIDATION', `invalid ${what}: ${list}`, { details });
}

/** Maps any error to the API's JSON error body and status; never a stack trace or a secret. */
export function errorResponse(error: unknown, requestId: string): { status: number; body: ApiErrorBody } {
  if (isCaracalError(error)) {
    const body: ApiErrorBody = {
      error: error.code,
      message: error.message,
      request_id: requestId,
      ...(error.details === undefined ? {} : { details: error.details }),
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    };
    return { status: error.status, body };
  }
  const fe = error as Partial<FastifyError>;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own refusals: bad JSON, wrong content type, oversized body.
    const code =
      fe.statusCode === 413 ? 'CRC_PAYLOAD_TOO_LARGE' : fe.statusCode === 415 ? 'CRC_UNSUPPORTED_MEDIA_TYPE' : 'CRC_BAD_REQUEST';
    return { status: fe.statusCode, body: { error: code, message: fe.message ?? 'bad request', request_id: requestId } };
  }
  return {
    status: 500,
    body: { error: 'CRC_INTERNAL', message: 'internal error; the control-plane log has the details for this request ID', request_id: requestId },
  };
}

/** Fastify error handler: logs 5xx with the request ID, answers with the JSON error body. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = errorResponse(error, request.id);
  if (status >= 500) request.log.error({ err: error, request_id: request.id }, 'request failed');
  void reply.status(status).header('x-request-id', request.id).send(body);
}
