import type { AuditEvent, Category, Decision } from './event.js';
import { reasonInfo } from './explain-reasons.js';

/**
 * The explain builder (DESIGN.md §7): a pure function from the audit events of one request ID,
 * the issuance event of the token it carried and the current state of the objects it named, to
 * the stable `--json` shape plus plain words. No I/O: core/control/routes/audit.ts gathers the
 * inputs, explain-render.ts prints the result for people.
 */

/** An app as it is now (null in ExplainState: it no longer exists). */
export interface ExplainApp {
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
  readonly updatedAt: string;
}

/** A resource as it is now. */
export interface ExplainResource {
  readonly id: string;
  readonly upstreamUrl: string;
  readonly scopes: readonly string[];
  readonly providerId: string | null;
  readonly updatedAt: string;
}

/** A provider as it is now. */
export interface ExplainProvider {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly updatedAt: string;
}

/** A live revocation that concerns the request's token or app. */
export interface ExplainRevocation {
  readonly kind: 'jti' | 'app';
  readonly createdAt: string;
  readonly reason: string;
}

/** The current state of what the request named: `undefined` = not looked up, `null` = does not exist. */
export interface ExplainState {
  readonly app?: ExplainApp | null;
  readonly resource?: ExplainResource | null;
  readonly provider?: ExplainProvider | null;
  readonly activePolicySet?: { readonly setId: string; readonly version: number } | null;
  readonly revocations?: readonly ExplainRevocation[];
}

export interface ExplainInput {
  readonly requestId: string;
  /** Every event with this request ID, in any order. */
  readonly events: readonly AuditEvent[];
  /** The `token.issued` event of the token the request carried (found by its jti), if any. */
  readonly issuance?: AuditEvent | null;
  readonly state?: ExplainState;
}

/** A rule near the request and the clauses that kept it from allowing (from the policy diagnosis). */
export interface ExplainNearestRule {
  readonly rule: string;
  readonly policy: string;
  readonly effect: string;
  readonly failed: readonly { readonly clause: string; readonly expected: readonly string[]; readonly actual: string | readonly string[] }[];
  readonly sentence: string;
}

/** The `--json` contract of `caracal explain` (DESIGN.md §7); keys may be added, none renamed. */
export interface Explanation {
  readonly request_id: string;
  /** Which event was explained: `gateway.request`, `token.denied`, `token.issued`, … */
  readonly kind: AuditEvent['type'];
  readonly at: string;
  readonly final_decision: Decision;
  readonly category: Category | null;
  readonly reason: string;
  readonly summary: string;
  readonly hint: string | null;
  readonly zone_id: string | null;
  readonly application_id: string | null;
  readonly application_name: string | null;
  readonly resource_id: string | null;
  /** The provider whose credential the Gateway injects for the resource, as it is now; null when none (additive key). */
  readonly provider: { readonly id: string; readonly name: string; readonly kind: string } | null;
  readonly scopes: { readonly requested: readonly string[]; readonly granted: readonly string[] };
  readonly method: string | null;
  readonly path: string | null;
  readonly policy: {
    readonly set_id: string | null;
    readonly set_version: number | null;
    readonly versions: readonly string[];
    /** The deciding rules (allow or deny); empty when none decided. */
    readonly rules: readonly string[];
    /** For a deny: the nearest rules and what failed. */
    readonly nearest: readonly ExplainNearestRule[];
    /** For a deny: the policy engine's own sentence. */
    readonly diagnosis: string | null;
  } | null;
  readonly gateway: { readonly status: number | null; readonly upstream_status: number | null; readonly latency_ms: number | null } | null;
  readonly token: {
    readonly jti: string;
    readonly exp: number;
    readonly expires_at: string;
    /** The issuance: when, by which token request, and by which policy set version the scopes were granted. */
    readonly issued: {
      readonly at: string;
      readonly request_id: string;
      readonly scopes: readonly string[];
      readonly set_id: string | null;
      readonly set_version: number | null;
      readonly rules: readonly string[];
    } | null;
  } | null;
  /** What changed since, in words (app deleted or disabled, resource upstream changed, …). */
  readonly current: readonly string[];
  /** The audit events of this request, oldest first. */
  readonly events: readonly AuditEvent[];
}

/** Which event of a request explain is about, most telling first. */
const PRIORITY: readonly AuditEvent['type'][] = ['gateway.request', 'token.denied', 'token.issued', 'run.launch', 'admin.change', 'audit.checkpoint'];

/** Builds the explanation of one request from its events and the current state. Throws nothing; needs at least one event. */
export function buildExplanation(input: ExplainInput): Explanation {
  const events = [...input.events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const main = pickMain(events);
  if (main === undefined) throw new TypeError('buildExplanation needs at least one event');
  const state = input.state ?? {};
  const issuance = input.issuance ?? null;
  const info = reasonInfo(main.type, main.reason);
  // The token endpoint records coarse categories (anything not about the client or the target is
  // `policy`); for its reasons the catalog's finer category is the diagnosis.
  const category = main.type.startsWith('token.') && info !== undefined ? info.category : (main.category ?? (main.decision === 'allow' && main.reason === 'ok' ? null : (info?.category ?? null)));
  const nearest = nearestRules(main.detail);
  const diagnosis = diagnosisSummary(main.detail);
  const ctx: Ctx = { main, state, issuance, nearest, info };
  const current = currentNotes(ctx);
  const hint = main.decision === 'allow' && category === null ? null : sharpHint(ctx) ?? info?.fix ?? genericFix(main);
  const shared = events.filter((e) => e.type === main.type).length;
  const summary = summarize(ctx) + (shared > 1 ? ` (${shared} ${main.type} events share this request ID; this is the latest.)` : '');
  return {
    request_id: input.requestId,
    kind: main.type,
    at: main.at,
    final_decision: main.decision,
    category,
    reason: main.reason,
    summary,
    hint,
    zone_id: main.zone,
    application_id: main.app,
    application_name: state.app?.name ?? null,
    resource_id: main.resource,
    provider: state.provider == null ? null : { id: state.provider.id, name: state.provider.name, kind: state.provider.kind },
    scopes: scopesOf(main, issuance),
    method: main.http?.method ?? null,
    path: main.http?.path ?? null,
    policy:
      main.policy === null && nearest.length === 0
        ? null
        : {
            set_id: main.policy?.set_id ?? null,
            set_version: main.policy?.set_version ?? null,
            versions: main.policy?.versions ?? [],
            rules: main.policy?.rules ?? [],
            nearest,
            diagnosis,
          },
    gateway: main.type === 'gateway.request' && main.http !== null ? { status: main.http.status, upstream_status: main.http.upstream_status, latency_ms: main.http.latency_ms } : null,
    token: tokenOf(main, issuance),
    current,
    events,
  };
}

interface Ctx {
  readonly main: AuditEvent;
  readonly state: ExplainState;
  readonly issuance: AuditEvent | null;
  readonly nearest: readonly ExplainNearestRule[];
  readonly info: ReturnType<typeof reasonInfo>;
}

function pickMain(events: readonly AuditEvent[]): AuditEvent | undefined {
  for (const type of PRIORITY) {
    const of = events.filter((e) => e.type === type);
    if (of.length > 0) return of[of.length - 1];
  }
  return events[events.length - 1];
}

function scopesOf(main: AuditEvent, issuance: AuditEvent | null): Explanation['scopes'] {
  if (main.type === 'token.issued') return { requested: main.scopes, granted: main.scopes };
  if (main.type === 'token.denied') return { requested: main.scopes, granted: [] };
  // A call presents the token's scopes; they were granted when the token was issued.
  return { requested: main.scopes, granted: issuance?.scopes ?? main.scopes };
}

function tokenOf(main: AuditEvent, issuance: AuditEvent | null): Explanation['token'] {
  if (main.token === null) return null;
  return {
    jti: main.token.jti,
    exp: main.token.exp,
    expires_at: new Date(main.token.exp * 1000).toISOString(),
    issued:
      issuance === null || main.type === 'token.issued'
        ? main.type === 'token.issued'
          ? { at: main.at, request_id: main.request_id, scopes: main.scopes, set_id: main.policy?.set_id ?? null, set_version: main.policy?.set_version ?? null, rules: main.policy?.rules ?? [] }
          : null
        : {
            at: issuance.at,
            request_id: issuance.request_id,
            scopes: issuance.scopes,
            set_id: issuance.policy?.set_id ?? null,
            set_version: issuance.policy?.set_version ?? null,
            rules: issuance.policy?.rules ?? [],
          },
  };
}

// ---- plain words -------------------------------------------------------------------------------

function callOf(main: AuditEvent): string {
  return main.http === null ? 'the request' : `${main.http.method} ${main.http.path}`;
}

function who(ctx: Ctx): string {
  const { main, state } = ctx;
  if (main.app === null) return '';
  const name = state.app?.name;
  return ` by app ${name !== undefined && name !== main.app ? `${name} (${main.app})` : main.app}`;
}

function on(main: AuditEvent): string {
  return main.resource === null ? '' : ` on ${main.resource}`;
}

function ruleList(rules: readonly string[]): string {
  return rules.map((r) => `\`${r}\``).join(', ');
}

function setRef(policy: AuditEvent['policy']): string {
  if (policy === null || policy.set_id === null) return '';
  return ` (policy set ${policy.set_id} v${policy.set_version ?? '?'})`;
}

function summarize(ctx: Ctx): string {
  const { main, info } = ctx;
  const subject = `${callOf(main)}${who(ctx)}${on(main)}`;
  if (main.type === 'gateway.request') {
    const http = main.http;
    const timing = http?.latency_ms == null ? '' : ` in ${http.latency_ms} ms`;
    if (main.reason === 'ok') {
      const by = main.policy !== null && main.policy.rules.length > 0 ? ` by rule ${ruleList(main.policy.rules)}${setRef(main.policy)}` : '';
      const answered = http?.upstream_status == null ? 'the client went away before the answer' : `the upstream answered ${http.upstream_status}${timing}`;
      return `${subject} was allowed${by} and ${answered}.`;
    }
    if (main.reason === 'upstream_error') {
      return `${subject} was allowed${setRef(main.policy)}, but the upstream answered ${http?.upstream_status ?? 'an error'}${timing}.`;
    }
    const issuedFor = main.reason === 'audience_mismatch' ? tokenResource(ctx) : null;
    const what = issuedFor !== null ? `carried a token issued for ${issuedFor}, not for this resource` : (info?.what ?? `was refused (${main.reason})`);
    const stage = info?.category === 'runtime_config' ? ' before any policy check' : '';
    return `${subject} ${what}${stage}${http?.status == null ? '' : `; the Gateway answered ${http.status}`}.`;
  }
  if (main.type === 'token.issued') {
    return `A token for ${main.resource ?? 'a resource'} with scopes ${main.scopes.join(' ') || '(none)'} was issued to app ${main.app ?? '?'}${setRef(main.policy)}${main.policy?.rules.length ? ` by rule ${ruleList(main.policy.rules)}` : ''}.`;
  }
  if (main.type === 'token.denied') {
    const scopes = main.scopes.length > 0 ? ` for scopes ${main.scopes.join(' ')}` : '';
    const app = main.app === null ? '' : ` of app ${main.app}`;
    return `The token request${app}${on(main)}${scopes} ${info?.what ?? `was denied (${main.reason})`}.`;
  }
  if (main.type === 'admin.change') {
    const subjectId = typeof main.detail.subject === 'string' ? ` of ${main.detail.subject}` : '';
    return `An admin change (${main.reason})${subjectId} was recorded.`;
  }
  return `A ${main.type} event (${main.decision}, ${main.reason}) was recorded.`;
}

/** The fix with the request's own facts in it, where the facts allow one. */
function sharpHint(ctx: Ctx): string | null {
  const { main, state } = ctx;
  switch (main.reason) {
    case 'method_not_allowed':
    case 'path_not_allowed':
    case 'scope_not_granted':
    case 'no_matching_rule':
    case 'denied_by_rule':
    case 'no_active_policy':
      return policyHint(ctx);
    case 'resource_unknown':
      if (state.resource != null) return `resource ${state.resource.id} exists now (it was created or restored after this request): retry the call`;
      return main.resource === null ? null : unknownResourceHint(ctx, main.resource);
    case 'audience_mismatch': {
      const named = main.resource ?? 'the resource in X-Caracal-Resource';
      const issuedFor = tokenResource(ctx);
      const other = issuedFor === null ? 'another resource' : issuedFor;
      const back = issuedFor === null ? 'or fix the header' : `or, to call ${issuedFor}, send X-Caracal-Resource: ${issuedFor}`;
      return `the request named ${named} in X-Caracal-Resource but its token was issued for ${other}: request a token for ${named} (one resource per token; add it to the profile [[credentials]]) ${back}`;
    }
    case 'app_revoked':
    case 'app_unknown':
    case 'app_disabled':
      return appHint(ctx);
    case 'upstream_unreachable':
    case 'upstream_timeout':
    case 'upstream_reset':
    case 'upstream_error':
      return upstreamHint(ctx);
    case 'provider_credential_rejected':
    case 'provider_token_unavailable':
    case 'provider_token_refused':
      return providerHint(ctx);
    default:
      return null;
  }
}

/** The resource the request's token was issued for: recorded by the Gateway, else from the issuance. */
function tokenResource(ctx: Ctx): string | null {
  const recorded = ctx.main.detail.issued_for;
  if (typeof recorded === 'string') return recorded;
  return ctx.issuance?.resource ?? null;
}

/** The fix for a resource that does not exist: the Gateway's "did you mean" first, then creating it. */
function unknownResourceHint(ctx: Ctx, named: string): string {
  const { main } = ctx;
  const zone = main.zone ?? '<zone>';
  const guess = main.detail.did_you_mean;
  const issuedFor = tokenResource(ctx);
  const token = issuedFor === null || issuedFor === named ? '' : ` (the token was issued for ${issuedFor})`;
  const create = `create it (caracal resources create --id ${named} --zone ${zone})`;
  if (typeof guess === 'string') return `no resource ${named} exists in zone ${main.zone ?? '?'}${token}: did you mean ${guess}? Send X-Caracal-Resource: ${guess}, or ${create}`;
  return `no resource ${named} exists in zone ${main.zone ?? '?'}${token}: fix X-Caracal-Resource (caracal resources list --zone ${zone}) or ${create}`;
}

/** The fix for a provider failure, naming the resource's provider and the commands that fix it. */
function providerHint(ctx: Ctx): string | null {
  const { main, state } = ctx;
  const provider = state.provider;
  if (provider == null) return null;
  const zone = main.zone ?? '<zone>';
  const replace = `caracal providers set-credentials ${provider.name} --credential-file - --zone ${zone}`;
  const changed = provider.updatedAt > main.at ? ` (provider ${provider.name} was changed after this request: retry first)` : '';
  switch (main.reason) {
    case 'provider_credential_rejected':
      return `the credential of provider ${provider.name} was rejected (the upstream answered ${main.http?.upstream_status ?? 401}): replace it (${replace}), or check its permissions at the API${changed}`;
    case 'provider_token_refused':
      return `the token endpoint of provider ${provider.name} refused its client credentials: check client_id, scopes and audience (caracal providers get ${provider.name} --zone ${zone}) and replace the client secret (${replace})${changed}`;
    default:
      return `the token endpoint of provider ${provider.name} could not be reached or did not issue a token: check that its token_url is up and reachable from the Gateway (caracal providers get ${provider.name} --zone ${zone})${changed}`;
  }
}

function policyHint(ctx: Ctx): string | null {
  const { main, state, nearest } = ctx;
  const isMint = main.type.startsWith('token.');
  const tokenScopes = main.scopes.length > 0 ? main.scopes.join(' ') : 'no scopes';
  if (main.reason === 'no_active_policy') {
    if (state.activePolicySet != null) return `policy set ${state.activePolicySet.setId} v${state.activePolicySet.version} is active now: retry`;
    return `activate a policy set version in zone ${main.zone ?? '?'} (caracal policy-sets activate <set> --zone ${main.zone ?? '<zone>'})`;
  }
  if (main.reason === 'denied_by_rule') {
    const rules = main.policy?.rules ?? [];
    const named = rules.length > 0 ? `deny rule ${ruleList(rules)}` : 'a deny rule';
    return isMint
      ? `${named} keeps scopes ${tokenScopes} from app ${main.app ?? '?'} on ${main.resource ?? '?'}: change or remove ${named} if the app should get them`
      : `${named} matches ${callOf(main)}: change or remove ${named} if this call should pass (deny rules win over allow rules)`;
  }
  const near = nearest.find((n) => n.effect === 'allow');
  if (main.reason === 'no_matching_rule' || near === undefined) {
    const base = `no allow rule covers app ${main.app ?? '?'} on ${main.resource ?? '?'}: add one to the policy and activate the new policy set version`;
    return near === undefined ? base : `${base} (nearest: ${near.sentence})`;
  }
  const rule = `rule ${near.rule}`;
  const parts: string[] = [];
  const fixes: string[] = [];
  const alternatives: string[] = [];
  for (const failure of near.failed) {
    const expected = failure.expected;
    const actual = typeof failure.actual === 'string' ? failure.actual : failure.actual.join(' ');
    if (failure.clause === 'method') {
      parts.push(`${rule} allows ${expected.join(', ')} only; this was ${actual}`);
      fixes.push(`add ${actual} to ${rule}`);
      alternatives.push(expected.every((m) => SAFE_METHODS.has(m)) ? 'use a read call' : `use ${expected.join(' or ')}`);
    } else if (failure.clause === 'path') {
      parts.push(`${rule} allows paths ${expected.join(', ')} only; this was ${actual}`);
      fixes.push(`add a path pattern matching ${actual} (for example "${suggestPattern(actual)}") to ${rule}`);
      alternatives.push(`call a path under ${expected.join(' or ')}`);
    } else if (failure.clause === 'scope') {
      if (isMint) {
        parts.push(`app ${main.app ?? '?'} asked for ${actual || 'no scopes'}; ${rule} grants ${expected.join(', ')}`);
        fixes.push(`request ${expected.join(' or ')} (the profile [[credentials]] scopes)`);
        alternatives.push(`grant ${actual} in ${rule}`);
      } else {
        parts.push(`${rule} needs one of the scopes ${expected.join(', ')}`);
        fixes.push(`request a token with ${expected.join(' or ')} (the profile [[credentials]] scopes for ${main.resource ?? 'this resource'})`);
        alternatives.push(`add ${actual || 'the token scope'} to ${rule}`);
      }
    } else {
      parts.push(`${rule} is for ${failure.clause}s ${expected.join(', ')}, not ${actual}`);
      fixes.push(`add ${actual} to the ${failure.clause}s of ${rule}`);
    }
  }
  const head = isMint ? '' : `the token has scope ${tokenScopes}; `;
  const alt = alternatives.length > 0 ? ` or ${alternatives.join(' and ')}` : '';
  return `${head}${parts.join('; ')} — ${fixes.join(' and ')}${alt}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A glob that covers a request path's first segments: `/v2/invoices/7` → `/v2/**`. */
function suggestPattern(path: string): string {
  const first = path.split('/').filter((s) => s !== '')[0];
  return first === undefined ? '/**' : `/${first}/**`;
}

function appHint(ctx: Ctx): string | null {
  const { main, state } = ctx;
  if (state.app === null) return `app ${main.app ?? '?'} no longer exists: create an app (caracal setup or caracal apps create) and use its new profile`;
  if (main.reason === 'app_revoked') {
    const revoked = state.revocations?.find((r) => r.kind === 'app');
    const when = revoked === undefined ? '' : ` at ${revoked.createdAt}${revoked.reason ? ` (${revoked.reason})` : ''}`;
    return `the operator revoked every token of app ${main.app ?? '?'}${when} and replaced its secret: put the new secret in the secret file (caracal apps rotate-secret gives another) and get a new token`;
  }
  if (main.reason === 'app_disabled' && state.app !== undefined && !state.app.disabled) return `app ${state.app.name} is enabled now: retry`;
  return null;
}

function upstreamHint(ctx: Ctx): string | null {
  const { main, state } = ctx;
  const resource = state.resource;
  const where = resource == null ? '' : ` at ${resource.upstreamUrl}`;
  const changed = resource != null && resource.updatedAt > main.at ? ` (the resource was changed after this request; its upstream is now ${resource.upstreamUrl})` : '';
  switch (main.reason) {
    case 'upstream_unreachable':
      return `nothing accepted the connection${where}: start the upstream service, or fix the upstream URL (caracal resources update ${main.resource ?? '<resource>'} --upstream <url> --zone ${main.zone ?? '<zone>'})${changed}`;
    case 'upstream_timeout':
      return `the upstream${where} did not answer in time: check its health and load; the Gateway waits 5 s to connect and 30 s for headers${changed}`;
    case 'upstream_reset':
      return `the upstream${where} closed the connection mid-response: check its logs for request ID ${main.request_id}${changed}`;
    default:
      return `the upstream${where} answered ${main.http?.upstream_status ?? 'a server error'}: check its logs for request ID ${main.request_id} (sent as X-Request-Id); the Gateway and the policy worked${changed}`;
  }
}

function genericFix(main: AuditEvent): string | null {
  if (main.decision === 'allow' && main.category === null) return null;
  return `no explanation is known for reason ${main.reason}; see the event detail below`;
}

/** Facts about the current state that matter to whoever reads the explanation. */
function currentNotes(ctx: Ctx): string[] {
  const { main, state, issuance } = ctx;
  const notes: string[] = [];
  if (main.app !== null) {
    if (state.app === null) notes.push(`app ${main.app} no longer exists`);
    else if (state.app?.disabled === true) notes.push(`app ${state.app.name} (${state.app.id}) is disabled now`);
  }
  for (const revocation of state.revocations ?? []) {
    notes.push(revocation.kind === 'app' ? `every token of this app issued before ${revocation.createdAt} is revoked` : `this token was revoked at ${revocation.createdAt}`);
  }
  if (main.resource !== null && state.resource !== undefined) {
    if (state.resource === null) notes.push(`resource ${main.resource} does not exist now`);
    else if (state.resource.updatedAt > main.at) notes.push(`resource ${state.resource.id} was changed after this request (upstream now ${state.resource.upstreamUrl})`);
  }
  if (state.provider === null && state.resource?.providerId) notes.push(`the provider ${state.resource.providerId} of this resource does not exist now`);
  else if (state.provider != null && state.provider.updatedAt > main.at) notes.push(`provider ${state.provider.name} was changed after this request`);
  const decided = main.policy;
  if (state.activePolicySet === null && decided?.set_id != null) notes.push('no policy set is active in this zone now: everything is denied');
  else if (state.activePolicySet != null && decided?.set_id != null && (state.activePolicySet.setId !== decided.set_id || state.activePolicySet.version !== decided.set_version)) {
    notes.push(`policy set ${state.activePolicySet.setId} v${state.activePolicySet.version} is active now (this was decided by ${decided.set_id} v${decided.set_version ?? '?'})`);
  }
  if (main.token !== null && main.type === 'gateway.request' && issuance === null) {
    notes.push(`no issuance event was found for token ${main.token.jti} (issued by another installation, or before this ledger began)`);
  }
  return notes;
}

// ---- reading the policy diagnosis out of an event's detail -------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function diagnosisOf(detail: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  const diagnosis = detail.diagnosis;
  return isRecord(diagnosis) ? diagnosis : undefined;
}

function diagnosisSummary(detail: Readonly<Record<string, unknown>>): string | null {
  const summary = diagnosisOf(detail)?.summary;
  return typeof summary === 'string' ? summary : null;
}

function nearestRules(detail: Readonly<Record<string, unknown>>): ExplainNearestRule[] {
  const diagnosis = diagnosisOf(detail);
  if (diagnosis === undefined) return [];
  const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
  const list = [...listOf(diagnosis.nearest), ...listOf(diagnosis.denyingRules)];
  return list.filter(isRecord).map((n) => ({
    rule: typeof n.rule === 'string' ? n.rule : '?',
    policy: typeof n.policy === 'string' ? n.policy : '?',
    effect: typeof n.effect === 'string' ? n.effect : '?',
    sentence: typeof n.sentence === 'string' ? n.sentence : '',
    failed: listOf(n.failed).filter(isRecord).map((f) => ({
      clause: typeof f.clause === 'string' ? f.clause : '?',
      expected: strings(f.expected),
      actual: typeof f.actual === 'string' ? f.actual : strings(f.actual),
    })),
  }));
}
