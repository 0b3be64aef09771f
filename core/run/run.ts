import { newId } from '../domain/ids.js';
import { CaracalError } from '../errors.js';
import type { RuntimeContribution } from '../plugin/types.js';
import { envNameProblem } from '../profile/env-name.js';
import { loadProfile } from '../profile/load-profile.js';
import { readSecretFile } from '../profile/secret-file.js';
import { runChild } from './child.js';
import { recordLaunch } from './launch-record.js';
import type { Runtime, RuntimeContext, RuntimeHandle } from './runtime.js';
import { httpPost } from './http-post.js';
import { createTokenClient } from './token-client.js';

export interface RunOptions {
  /** `--profile`; else CARACAL_CONFIG, else the config dir's caracal.toml. */
  readonly profile?: string | undefined;
  /** `--runtime`; else the profile's `runtime`. */
  readonly runtime?: string | undefined;
  readonly command: string;
  readonly args: readonly string[];
  /** The runtimes the loaded plugins contribute. */
  readonly runtimes: readonly RuntimeContribution[];
  readonly env?: NodeJS.ProcessEnv;
  /** Where problems are reported (stderr by default). */
  readonly report?: (message: string) => void;
}

/** Variables a workload never inherits from the shell that runs `caracal run`: operator secrets. */
const WITHHELD = ['CARACAL_ADMIN_TOKEN', 'CARACAL_MASTER_KEY'];

/**
 * `caracal run` (DESIGN.md §8): loads the profile, reads the app secret (owner-only file), fetches
 * the first token of every credential, records `run.launch`, lets the runtime hand the tokens to
 * the child, runs the child and returns its exit code. Every failure before the child starts is
 * thrown (the CLI prints it and exits 1) and no child is started.
 */
export async function runWithProfile(options: RunOptions): Promise<number> {
  const env = options.env ?? process.env;
  const report = options.report ?? ((message: string) => process.stderr.write(`caracal run: ${message}\n`));
  const profile = loadProfile(options.profile, env);
  const runtimeId = options.runtime ?? profile.runtime;
  const runtime = options.runtimes.find((r) => r.id === runtimeId) as Runtime | undefined;
  if (runtime === undefined) {
    const from = options.runtime === undefined ? `runtime = "${runtimeId}" in ${profile.path}` : `--runtime ${runtimeId}`;
    throw new CaracalError('CRC_USAGE', `${from}: no such runtime`, {
      hint: `installed runtimes: ${options.runtimes.map((r) => r.id).join(', ') || 'none'}`,
    });
  }
  const secret = readSecretFile(profile.clientSecretFile);
  const runId = newId('request');
  const tokens = createTokenClient({ controlUrl: profile.controlUrl, clientId: profile.applicationId, clientSecret: secret, requestId: runId, post: httpPost });
  await Promise.all(profile.credentials.map((c) => tokens.token(c.resource, c.scopes)));
  await recordLaunch({
    controlUrl: profile.controlUrl,
    clientId: profile.applicationId,
    clientSecret: secret,
    requestId: runId,
    command: options.command,
    runtime: runtime.id,
    resources: profile.credentials.map((c) => c.resource),
    post: httpPost,
  });

  const context: RuntimeContext = {
    profile,
    gatewayUrl: profile.gatewayUrl,
    credentials: profile.credentials,
    token: (credential) => tokens.token(credential.resource, credential.scopes),
    warn: report,
  };
  const handle: RuntimeHandle = await runtime.launch(context);
  try {
    for (const name of Object.keys(handle.env)) {
      const problem = envNameProblem(name);
      if (problem !== undefined) throw new CaracalError('CRC_PLUGIN_INVALID', `runtime ${runtime.id} asked to set ${problem}`, { hint: 'choose another env name in the profile' });
    }
    const childEnv: NodeJS.ProcessEnv = { ...env, ...handle.env, CARACAL_GATEWAY_URL: profile.gatewayUrl };
    for (const name of WITHHELD) delete childEnv[name];
    return await runChild(options.command, options.args, childEnv, report);
  } finally {
    // The child's exit code stands even if clean-up fails; say what was left behind.
    await handle.close().catch((error: unknown) => report(`runtime ${runtime.id} could not clean up: ${(error as Error).message}`));
  }
}
