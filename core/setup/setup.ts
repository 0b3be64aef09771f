import type { AdminClient } from '../control/admin-client.js';
import { CaracalError, toCaracalError } from '../errors.js';
import type { ScenarioContribution, ScenarioInput } from '../plugin/types.js';
import { defaultProfilePath, defaultSecretPath } from '../profile/locate-profile.js';
import { renderProfile } from '../profile/profile.js';
import { checkProfileTargets, writeProfileFiles } from '../profile/write-profile.js';
import { executePlan, preflight, type ExecutedObject } from './execute.js';
import { firstSuccessCommands } from './commands.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface SetupOptions {
  readonly scenario: ScenarioContribution;
  readonly input: ScenarioInput;
  readonly client: AdminClient;
  /** Written into the profile: where workloads reach the control plane and the Gateway. */
  readonly controlUrl: string;
  readonly gatewayUrl: string;
  readonly rotateSecret: boolean;
  readonly writeProfile: boolean;
  /** Default `<config dir>/caracal.toml`. */
  readonly profilePath?: string | undefined;
  readonly overwrite: boolean;
  /** The profile's `runtime` (default `env`). */
  readonly runtime?: string | undefined;
  readonly env?: Env;
  readonly onObject?: ((object: ExecutedObject) => void) | undefined;
}

/**
 * The result of `caracal setup` (DESIGN.md §1): the keys of the `--json` contract, plus
 * `provider_id`, `profile_written`, `objects` and `reused`. `client_secret` is shown this once.
 */
export interface SetupResult {
  readonly scenario: string;
  readonly zone_id: string;
  readonly zone_name: string;
  readonly application_id: string;
  readonly application_name: string;
  readonly resource_id: string;
  /** The provider whose credential the Gateway injects (third-party scenarios), else null. */
  readonly provider_id: string | null;
  readonly client_secret: string;
  readonly policy_set_id: string | null;
  readonly policy_set_version: number | null;
  readonly profile_path: string;
  readonly secret_file: string;
  /** False without --write-profile: the paths say where the files would go. */
  readonly profile_written: boolean;
  readonly profile: string;
  readonly gateway_url: string;
  readonly control_url: string;
  readonly commands: { readonly run: string; readonly curl: string };
  /** Kinds of the objects this run created, in order. */
  readonly created: readonly string[];
  /** Kinds of the objects that existed and were used as they were (or updated / rotated). */
  readonly reused: readonly string[];
  readonly objects: readonly { readonly kind: string; readonly id: string; readonly name: string; readonly action: string; readonly version?: number }[];
}

/** A setup whose objects exist but whose profile could not be written: the result is still shown once. */
export class ProfileWriteError extends CaracalError {
  readonly result: SetupResult;

  constructor(result: SetupResult, cause: CaracalError) {
    super(cause.code, `setup created everything, but the profile was not written: ${cause.message}`, {
      cause,
      hint: `${cause.hint ?? ''}${cause.hint ? '\n' : ''}the client secret above is shown only this once: save it, or re-run with --rotate-secret --write-profile once the problem is fixed`,
    });
    this.result = result;
  }
}

/**
 * Plans the scenario, checks that it can run (control plane reachable, app reusable, profile
 * files free) before creating anything, runs the plan, and writes the profile and secret file.
 */
export async function runSetup(options: SetupOptions): Promise<SetupResult> {
  const env = options.env ?? process.env;
  const plan = options.scenario.plan(options.input);
  const credential = plan.credentials[0];
  if (credential === undefined) throw new CaracalError('CRC_PLUGIN_INVALID', `scenario ${plan.scenario} plans no credential; a profile needs one`);
  const profilePath = options.profilePath ?? defaultProfilePath(env);

  const before = await preflight(options.client, plan, options);
  if (options.writeProfile) {
    const secretPath = before.zoneId !== null && before.appId !== null ? defaultSecretPath(before.zoneId, before.appId, env) : null;
    checkProfileTargets({ profilePath, secretPath: secretPath ?? profilePath }, options.overwrite);
  }

  const executed = await executePlan(options.client, plan, { rotateSecret: options.rotateSecret, ...(options.onObject ? { onObject: options.onObject } : {}) });
  const secretFile = defaultSecretPath(executed.zone.id, executed.app.id, env);
  const profile = renderProfile({
    zoneId: executed.zone.id,
    applicationId: executed.app.id,
    controlUrl: options.controlUrl,
    gatewayUrl: options.gatewayUrl,
    clientSecretFile: secretFile,
    runtime: options.runtime ?? 'env',
    credentials: plan.credentials,
  });
  const first = plan.firstRequest ?? { resource: credential.resource, method: 'GET', path: '/' };
  const result: SetupResult = {
    scenario: plan.scenario,
    zone_id: executed.zone.id,
    zone_name: executed.zone.name,
    application_id: executed.app.id,
    application_name: executed.app.name,
    resource_id: first.resource,
    provider_id: executed.objects.find((o) => o.kind === 'provider')?.id ?? null,
    client_secret: executed.clientSecret,
    policy_set_id: executed.activePolicySet?.id ?? null,
    policy_set_version: executed.activePolicySet?.version ?? null,
    profile_path: profilePath,
    secret_file: secretFile,
    profile_written: false,
    profile,
    gateway_url: options.gatewayUrl,
    control_url: options.controlUrl,
    commands: firstSuccessCommands({ profilePath, gatewayUrl: options.gatewayUrl, env: plan.credentials.find((c) => c.resource === first.resource)?.env ?? credential.env, ...first }),
    created: executed.objects.filter((o) => o.action === 'created').map((o) => o.kind),
    reused: executed.objects.filter((o) => o.action !== 'created').map((o) => o.kind),
    objects: executed.objects.map(({ kind, id, name, action, version }) => ({ kind, id, name, action, ...(version === undefined ? {} : { version }) })),
  };
  if (!options.writeProfile) return result;
  try {
    writeProfileFiles({ profilePath, secretPath: secretFile, profileText: profile, secret: executed.clientSecret, overwrite: options.overwrite });
  } catch (error) {
    throw new ProfileWriteError(result, toCaracalError(error));
  }
  return { ...result, profile_written: true };
}
