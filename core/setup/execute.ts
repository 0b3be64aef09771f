import type { AdminClient, ProviderInput } from '../control/admin-client.js';
import { CaracalError, isCaracalError, toCaracalError } from '../errors.js';
import type { PlannedObject, PlannedObjectKind, ScenarioPlan } from '../plugin/types.js';
import { buildStarterPolicy } from '../policy/starter.js';
import { canonicalJson } from '../audit/chain.js';

/**
 * Runs a scenario plan against the control plane through the admin API, in the plan's order.
 * Re-running with the same names reuses what exists instead of duplicating it: a zone, resource,
 * provider, policy or policy set of that name is used as it is (a policy or set whose content
 * differs gets a new version). An existing app is reused only when its secret may be rotated,
 * since a secret is shown once, at creation. When a step fails, the error names what was created
 * so far and how to resume or undo.
 */

export type ObjectAction = 'created' | 'reused' | 'updated' | 'rotated';

/** One object of the plan as it now exists. */
export interface ExecutedObject {
  readonly kind: PlannedObjectKind;
  readonly ref: string;
  readonly id: string;
  readonly name: string;
  readonly action: ObjectAction;
  /** For policies and policy sets: the version now in use. */
  readonly version?: number;
}

/** What the plan left behind. */
export interface ExecutionResult {
  readonly objects: readonly ExecutedObject[];
  readonly zone: { readonly id: string; readonly name: string };
  readonly app: { readonly id: string; readonly name: string };
  /** The app's client secret, shown once (created or rotated now). */
  readonly clientSecret: string;
  /** The zone's active policy set afterwards (null: every request is denied). */
  readonly activePolicySet: { readonly id: string; readonly version: number } | null;
}

export interface ExecuteOptions {
  /** Reuse an existing app by rotating its secret (the old one stops working). */
  readonly rotateSecret: boolean;
  /** Called after each object, e.g. to show progress. */
  readonly onObject?: (object: ExecutedObject) => void;
}

/** What already exists, learned before anything is created. */
export interface Preflight {
  readonly zoneId: string | null;
  readonly appId: string | null;
}

type Spec = Readonly<Record<string, unknown>>;

/**
 * Checks, without creating anything, that the control plane answers and that the plan can run:
 * an existing app needs `rotateSecret`. Returns the IDs of the zone and app when they exist.
 */
export async function preflight(client: AdminClient, plan: ScenarioPlan, options: Pick<ExecuteOptions, 'rotateSecret'>): Promise<Preflight> {
  const zoneSpec = plan.objects.find((o) => o.kind === 'zone')?.spec;
  const appSpec = plan.objects.find((o) => o.kind === 'application')?.spec;
  const zone = typeof zoneSpec?.name === 'string' ? await find(() => client.zones.get(zoneSpec.name as string)) : undefined;
  const app = zone !== undefined && typeof appSpec?.name === 'string' ? await find(() => client.apps.get(zone.id, appSpec.name as string)) : undefined;
  if (app !== undefined && !options.rotateSecret) throw appExists(zone?.name ?? '', app.name, app.id);
  // A provider planned without credentials (a re-run keeping them) must exist already.
  for (const provider of plan.objects.filter((o) => o.kind === 'provider' && o.spec.credentials === undefined)) {
    const name = String(provider.spec.name);
    const found = zone === undefined ? undefined : await find(() => client.providers.get(zone.id, name));
    if (found === undefined) throw credentialNeeded(name, zone?.name ?? String(zoneSpec?.name));
  }
  return { zoneId: zone?.id ?? null, appId: app?.id ?? null };
}

/** Creates (or reuses) every object of the plan in order and activates the policy set. */
export async function executePlan(client: AdminClient, plan: ScenarioPlan, options: ExecuteOptions): Promise<ExecutionResult> {
  const done: ExecutedObject[] = [];
  const ids = new Map<string, string>();
  const versions = new Map<string, number>();
  let secret: string | undefined;
  let activePolicySet: ExecutionResult['activePolicySet'] | undefined;

  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === 'object') {
      const ref = (value as { $ref?: unknown }).$ref;
      if (typeof ref === 'string') {
        const id = ids.get(ref);
        if (id === undefined) throw new CaracalError('CRC_PLUGIN_INVALID', `scenario ${plan.scenario} refers to "${ref}" before creating it`);
        return id;
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    }
    return value;
  };

  for (const object of plan.objects) {
    try {
      const spec = resolve(object.spec) as Spec;
      const zone = typeof spec.zone === 'string' ? spec.zone : '';
      let outcome: Omit<ExecutedObject, 'kind' | 'ref'>;
      switch (object.kind) {
        case 'zone':
          outcome = await ensureZone(client, spec);
          break;
        case 'application': {
          const app = await ensureApp(client, zone, spec, options.rotateSecret);
          secret = app.secret;
          outcome = app.object;
          break;
        }
        case 'resource':
          outcome = await ensureResource(client, zone, spec);
          break;
        case 'provider':
          outcome = await ensureProvider(client, zone, spec);
          break;
        case 'policy':
          outcome = await ensurePolicy(client, zone, spec);
          break;
        case 'policy_set': {
          const members = (Array.isArray(spec.policies) ? spec.policies : []).map((id) => ({ policy: String(id), version: versions.get(String(id)) ?? 1 }));
          const set = await ensurePolicySet(client, zone, spec, members);
          outcome = set;
          activePolicySet = { id: set.id, version: set.version };
          break;
        }
      }
      ids.set(object.ref, outcome.id);
      if (outcome.version !== undefined) versions.set(outcome.id, outcome.version);
      const executed: ExecutedObject = { kind: object.kind, ref: object.ref, ...outcome };
      done.push(executed);
      options.onObject?.(executed);
    } catch (error) {
      throw stepFailed(plan, object, done, error);
    }
  }

  const zone = done.find((o) => o.kind === 'zone');
  const app = done.find((o) => o.kind === 'application');
  if (zone === undefined || app === undefined || secret === undefined) {
    throw new CaracalError('CRC_PLUGIN_INVALID', `scenario ${plan.scenario} plans no zone or no application; a profile needs both`);
  }
  if (activePolicySet === undefined) {
    const { active } = await client.policy.active(zone.id);
    activePolicySet = active === null ? null : { id: active.policy_set_id, version: active.version };
  }
  return { objects: done, zone: { id: zone.id, name: zone.name }, app: { id: app.id, name: app.name }, clientSecret: secret, activePolicySet };
}

async function ensureZone(client: AdminClient, spec: Spec): Promise<Omit<ExecutedObject, 'kind' | 'ref'>> {
  const name = String(spec.name);
  const existing = await find(() => client.zones.get(name));
  if (existing !== undefined) return { id: existing.id, name: existing.name, action: 'reused' };
  const zone = await client.zones.create({ name, ...(spec.kind === 'production' || spec.kind === 'evaluation' ? { kind: spec.kind } : {}) });
  return { id: zone.id, name: zone.name, action: 'created' };
}

async function ensureApp(client: AdminClient, zone: string, spec: Spec, rotate: boolean): Promise<{ object: Omit<ExecutedObject, 'kind' | 'ref'>; secret: string }> {
  const name = String(spec.name);
  const existing = await find(() => client.apps.get(zone, name));
  if (existing !== undefined) {
    if (!rotate) throw appExists(zone, existing.name, existing.id);
    const rotated = await client.apps.rotateSecret(zone, existing.id);
    return { object: { id: rotated.id, name: rotated.name, action: 'rotated' }, secret: rotated.client_secret };
  }
  const app = await client.apps.create(zone, { name });
  return { object: { id: app.id, name: app.name, action: 'created' }, secret: app.client_secret };
}

async function ensureResource(client: AdminClient, zone: string, spec: Spec): Promise<Omit<ExecutedObject, 'kind' | 'ref'>> {
  const id = String(spec.id);
  const scopes = (spec.scopes as readonly string[] | undefined) ?? [];
  const upstream = String(spec.upstream_url);
  const provider = typeof spec.provider === 'string' ? spec.provider : null;
  const existing = await find(() => client.resources.get(zone, id));
  if (existing !== undefined) {
    const missing = scopes.filter((s) => !existing.scopes.includes(s));
    const sameProvider = provider === null ? existing.provider_id === null : existing.provider_id === provider;
    if (existing.upstream_url.replace(/\/+$/, '') !== upstream.replace(/\/+$/, '') || missing.length > 0 || !sameProvider) {
      throw new CaracalError(
        'CRC_CONFLICT',
        `resource ${existing.id} already exists in this zone with upstream ${existing.upstream_url} and scopes ${existing.scopes.join(',')}${existing.provider_id ? ` and provider ${existing.provider_id}` : ''}, ` +
          `which differs from this setup (upstream ${upstream}, scopes ${scopes.join(',')})`,
        { hint: `change it with \`caracal resources update ${existing.id} --zone ${zone} --upstream ${upstream} --scopes ${[...new Set([...existing.scopes, ...scopes])].join(',')}\`, or choose another --resource` },
      );
    }
    return { id: existing.id, name: existing.name, action: 'reused' };
  }
  const created = await client.resources.create(zone, {
    id,
    scopes,
    upstream_url: upstream,
    ...(typeof spec.name === 'string' ? { name: spec.name } : {}),
    ...(provider === null ? {} : { provider }),
  });
  return { id: created.id, name: created.name, action: 'created' };
}

/** A planned provider: `credentials` may be absent on a re-run, to keep the stored ones. */
type ProviderSpec = Omit<ProviderInput, 'credentials'> & { readonly credentials?: ProviderInput['credentials'] };

/**
 * Creates the provider, or brings the existing one of that name in line with the plan: its
 * config is updated when it differs, and its credentials are replaced when the plan carries new
 * ones (they are write-only, so there is nothing to compare). Another kind is a conflict: the
 * kind decides what the credentials are, and other resources may rely on it.
 */
async function ensureProvider(client: AdminClient, zone: string, spec: Spec): Promise<Omit<ExecutedObject, 'kind' | 'ref'>> {
  const input = spec as unknown as ProviderSpec;
  const existing = await find(() => client.providers.get(zone, input.name));
  if (existing === undefined) {
    if (input.credentials === undefined) throw credentialNeeded(input.name, zone);
    const created = await client.providers.create(zone, { name: input.name, kind: input.kind, credentials: input.credentials, ...(input.config === undefined ? {} : { config: input.config }) });
    return { id: created.id, name: created.name, action: 'created' };
  }
  if (existing.kind !== input.kind) {
    throw new CaracalError('CRC_CONFLICT', `provider "${existing.name}" (${existing.id}) already exists in this zone as kind ${existing.kind}, not ${input.kind}`, {
      hint: `choose another provider name (--provider-name), or delete it first: caracal providers delete ${existing.id} --zone ${zone}`,
    });
  }
  const reconfigure = input.config !== undefined && canonicalJson(input.config) !== canonicalJson(existing.config);
  if (reconfigure) await client.providers.update(zone, existing.id, { config: input.config });
  if (input.credentials !== undefined) await client.providers.replaceCredentials(zone, existing.id, input.credentials);
  const action: ObjectAction = reconfigure ? 'updated' : input.credentials !== undefined ? 'rotated' : 'reused';
  return { id: existing.id, name: existing.name, action };
}

function credentialNeeded(name: string, zone: string): CaracalError {
  return new CaracalError('CRC_USAGE', `provider "${name}" does not exist in zone ${zone} yet, so setup needs its credential`, {
    hint: 'give it with --credential-file PATH (or --credential-file - to read stdin); docs/third-party.md shows the format of each kind',
  });
}

async function ensurePolicy(client: AdminClient, zone: string, spec: Spec): Promise<Omit<ExecutedObject, 'kind' | 'ref'>> {
  const name = String(spec.name);
  const starter = spec.starter as { app: string; resource: string; scopes: readonly string[] } | undefined;
  const source = starter !== undefined ? buildStarterPolicy(starter).source : String(spec.document);
  const format = starter !== undefined ? 'toml' : spec.format === 'json' ? 'json' : 'toml';
  const existing = await find(() => client.policies.get(zone, name));
  if (existing === undefined) {
    const created = await client.policies.create(zone, { name, document: source, format });
    return { id: created.id, name: created.name, action: 'created', version: created.created_version?.version ?? 1 };
  }
  if (existing.latest_version > 0) {
    const latest = await client.policies.getVersion(zone, existing.id, existing.latest_version);
    if (latest.source === source) return { id: existing.id, name: existing.name, action: 'reused', version: latest.version };
  }
  const version = await client.policies.addVersion(zone, existing.id, { source, format });
  return { id: existing.id, name: existing.name, action: 'updated', version: version.version };
}

interface Member {
  readonly policy: string;
  readonly version: number;
}

async function ensurePolicySet(client: AdminClient, zone: string, spec: Spec, members: readonly Member[]): Promise<Omit<ExecutedObject, 'kind' | 'ref'> & { version: number }> {
  const name = String(spec.name);
  const { active } = await client.policy.active(zone);
  const extend = spec.extend_active === true && active !== null;
  const existing = extend ? await client.policySets.get(zone, active.policy_set_id) : await find(() => client.policySets.get(zone, name));
  let action: ObjectAction;
  let setId: string;
  let setName: string;
  let version: number;
  if (existing === undefined) {
    const created = await client.policySets.create(zone, { name, policies: members });
    [action, setId, setName, version] = ['created', created.id, created.name, created.created_version?.version ?? 1];
  } else {
    // Start from the active version when extending (so no grant is dropped), else from the latest.
    const baseVersion = extend ? active.version : existing.latest_version;
    const base = baseVersion > 0 ? (await client.policySets.getVersion(zone, existing.id, baseVersion)).policies : [];
    const merged: Member[] = base.map((p) => ({ policy: p.policy_id, version: p.version }));
    for (const member of members) {
      const at = merged.findIndex((m) => m.policy === member.policy);
      if (at >= 0) merged[at] = member;
      else merged.push(member);
    }
    const unchanged = baseVersion > 0 && merged.length === base.length && merged.every((m, i) => base[i]?.policy_id === m.policy && base[i]?.version === m.version);
    if (unchanged) {
      [action, setId, setName, version] = ['reused', existing.id, existing.name, baseVersion];
    } else {
      const added = await client.policySets.addVersion(zone, existing.id, merged);
      [action, setId, setName, version] = ['updated', existing.id, existing.name, added.version];
    }
  }
  if (spec.activate !== false && (active === null || active.policy_set_id !== setId || active.version !== version)) {
    await client.policySets.activate(zone, setId, version);
  }
  return { id: setId, name: setName, action, version };
}

/** The value a lookup returns, or undefined on a 404. */
async function find<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (isCaracalError(error, 'CRC_NOT_FOUND')) return undefined;
    throw error;
  }
}

function appExists(zone: string, name: string, id: string): CaracalError {
  return new CaracalError(
    'CRC_CONFLICT',
    `app "${name}" (${id}) already exists in zone ${zone}; its client secret was shown once, when it was created, and cannot be shown again`,
    { hint: 'pass --rotate-secret to reuse the app with a new secret (the old secret stops working at once), or choose another --app name' },
  );
}

const UNDO: Record<PlannedObjectKind, (o: ExecutedObject, zone: string) => string> = {
  zone: (o) => `caracal zones delete ${o.name} --yes`,
  application: (o, zone) => `caracal apps delete ${o.id} --zone ${zone}`,
  resource: (o, zone) => `caracal resources delete ${o.id} --zone ${zone}`,
  provider: (o, zone) => `caracal providers delete ${o.id} --zone ${zone}`,
  policy: (o) => `(policy ${o.name} stays: policies are versioned, not deleted)`,
  policy_set: (o) => `(policy set ${o.name} stays: roll back with caracal policy-sets rollback)`,
};

/** The error for a failed step: what failed, what exists now, how to resume, how to undo. */
function stepFailed(plan: ScenarioPlan, object: PlannedObject, done: readonly ExecutedObject[], error: unknown): CaracalError {
  const cause = toCaracalError(error);
  const created = done.filter((o) => o.action !== 'reused');
  const what = typeof object.spec.id === 'string' ? `${object.kind} ${object.spec.id}` : typeof object.spec.name === 'string' ? `${object.kind} "${object.spec.name}"` : object.kind;
  const zone = done.find((o) => o.kind === 'zone');
  const zoneName = zone?.name ?? '<zone>';
  const list = created.length === 0 ? 'nothing was created' : `created so far: ${created.map((o) => `${o.kind} ${o.name} (${o.id}, ${o.action})`).join(', ')}`;
  const appCreated = created.some((o) => o.kind === 'application');
  const resume = `fix the cause and re-run the same command: what exists is reused${appCreated ? ', adding --rotate-secret (the new app\'s secret was not shown, so it must be rotated)' : ''}`;
  // A zone created by this run goes with everything in it; otherwise remove the objects one by one.
  const undo = zone?.action === 'created' ? [UNDO.zone(zone, zoneName)] : created.slice().reverse().map((o) => UNDO[o.kind](o, zoneName));
  const hint = [cause.hint, resume, ...(undo.length > 0 ? [`or undo: ${undo.join('; ')}`] : [])].filter((s): s is string => typeof s === 'string').join('\n');
  return new CaracalError(cause.code, `setup (${plan.scenario}) stopped at ${what}: ${cause.message}\n${list}`, {
    cause: error,
    details: { created: created.map(({ kind, id, name, action }) => ({ kind, id, name, action })), failed: object.kind },
    hint,
  });
}
