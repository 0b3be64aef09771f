/**
 * The public plugin API (`import { definePlugin } from 'caracal/plugin'`): the types a plugin is
 * written against, the identity helpers, the hook table, and the hook driver for testing a
 * plugin's hooks exactly as Caracal calls them. Plugins need not import it: a plain object with
 * the right shape is a plugin.
 */
export { PLUGIN_API_VERSION, defineHooks, definePlugin, fieldApplies } from './types.js';
export type {
  CommandContribution,
  Field,
  FieldValue,
  PlannedCredential,
  PlannedObject,
  PlannedObjectKind,
  Plugin,
  PluginFactory,
  ProviderContribution,
  RuntimeContribution,
  ScenarioContribution,
  ScenarioInput,
  ScenarioPlan,
  ScenarioStep,
  SinkContext,
  SinkContribution,
} from './types.js';
export { hookKinds, hookNames, upstreamRefusalReasons } from './hooks.js';
export type {
  AuditDetail,
  AuthorizeContext,
  AuthorizeDecision,
  AuthorizeVerdict,
  GatewayRequest,
  HookArgs,
  HookContext,
  HookFailure,
  HookKind,
  HookName,
  HookResults,
  Hooks,
  HookSpec,
  IdentifyContext,
  IdentifyResult,
  Identity,
  OutboundFetch,
  OutboundRequest,
  OutboundResponse,
  PrepareUpstreamContext,
  ReceiveContext,
  RecordContext,
  ResponseContext,
  Route,
  RouteContext,
  SetupContext,
  SetupMode,
  TeardownContext,
  UpstreamProvider,
  UpstreamRefusalReason,
} from './hooks.js';
export { createHookDriver } from './hook-driver.js';
export type { HookDriver, HookDriverOptions } from './hook-driver.js';
