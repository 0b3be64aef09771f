import { basename } from 'node:path';
import { CaracalError } from '../errors.js';
import { basicCredentials, fetchPost, unreachable, type Post, type PostAnswer } from './token-client.js';

/** What a launch record says: the program's basename (never its arguments), the runtime, the resources. */
export interface LaunchFacts {
  readonly controlUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly requestId: string;
  readonly command: string;
  readonly runtime: string;
  readonly resources: readonly string[];
  readonly post?: Post;
}

/**
 * Records a `run.launch` audit event through `POST /oauth2/run-launch` (app credentials, the run's
 * request ID). Fails closed: a launch that cannot be recorded does not happen.
 */
export async function recordLaunch(facts: LaunchFacts): Promise<void> {
  const base = facts.controlUrl.replace(/\/+$/, '');
  const command = basename(facts.command).slice(0, 255) || 'unknown';
  const headers = {
    authorization: basicCredentials(facts.clientId, facts.clientSecret),
    'content-type': 'application/json',
    'x-request-id': facts.requestId,
  };
  let answer: PostAnswer;
  try {
    answer = await (facts.post ?? fetchPost)(`${base}/oauth2/run-launch`, headers, JSON.stringify({ command, runtime: facts.runtime, credentials: facts.resources }), 15_000);
  } catch (error) {
    throw unreachable(base, error);
  }
  if (answer.status === 201) return;
  const body = (answer.body ?? {}) as { error_description?: unknown; message?: unknown };
  const description = typeof body.error_description === 'string' ? body.error_description : typeof body.message === 'string' ? body.message : `HTTP ${answer.status}`;
  throw new CaracalError(answer.status === 404 ? 'CRC_SERVICE_UNAVAILABLE' : 'CRC_AUDIT_RECORD_FAILED', `the control plane did not record the launch (${description}); the command was not started`, {
    hint: answer.status === 404 ? 'the control plane is older than this caracal: upgrade it (it has no /oauth2/run-launch)' : 'check the control-plane log (`caracal logs control`)',
  });
}
