import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import {
  addressClassWords,
  bareHost,
  classifyAddress,
  isListedPrivateHost,
  isNeverAllowed,
  isPrivateClass,
  type AddressClass,
} from '../core/net/address-ranges.js';
import type { OutboundFetch } from '../core/plugin/hooks.js';
import { defaultUpstreamLimits, type UpstreamLimits } from './forward.js';

/**
 * Outbound safety at connect time (DESIGN.md §3, §5): every connection the Gateway opens, to an
 * upstream or to a provider's token endpoint, is judged on the address it is about to connect to,
 * not on the name the control plane saw. A DNS name is resolved here and only admitted addresses
 * are handed to the socket; an address literal is judged before the socket exists. So a name that
 * later resolves to the cloud metadata endpoint (DNS rebinding) is refused like the literal.
 *
 * Pools are per rule: undici keeps one pool per origin inside an agent, and a connection opened for
 * a resource without a provider must never be reused by one whose zone forbids private addresses.
 */

/** What one connection may reach. */
export interface OutboundRule {
  /**
   * Loopback and private addresses: `null` allows them all (resources without a provider, and
   * every resource of an evaluation zone); a list allows only the hosts and CIDRs it names (a
   * production zone's `allowed_private_hosts`, for resources with a provider).
   */
  readonly privateHosts: readonly string[] | null;
}

/** The rule for resources without a provider and for evaluation zones. */
export const OPEN_RULE: OutboundRule = { privateHosts: null };

/** The error a refused address fails the connection with; `refusal` is the Gateway reason. */
export class AddressRefusedError extends Error {
  readonly code = 'CRC_ADDRESS_REFUSED';
  readonly refusal = 'address_not_allowed';
}

/** Why an address is refused under a rule, or null when it may be reached. */
export function refusedClass(rule: OutboundRule, hostname: string, address: string): AddressClass | null {
  const cls = classifyAddress(address) ?? 'public';
  if (isNeverAllowed(cls)) return cls;
  if (isPrivateClass(cls) && rule.privateHosts !== null && !isListedPrivateHost(rule.privateHosts, hostname, address)) return cls;
  return null;
}

function refusedError(hostname: string, address: string, cls: AddressClass): AddressRefusedError {
  const where = bareHost(hostname) === bareHost(address) ? `the address ${address}` : `${bareHost(hostname)}, which resolves to ${address},`;
  const why = isNeverAllowed(cls)
    ? `a ${addressClassWords[cls]} address, which Caracal never connects to`
    : `a ${addressClassWords[cls]} address, which this production zone allows for resources with a provider only when listed in allowed_private_hosts`;
  return new AddressRefusedError(`the Gateway refused to connect to ${where} ${why}`);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The resolver the guard wraps (node:dns lookup; replaceable in tests to play a DNS answer). */
export type Resolver = (hostname: string, options: LookupOptions & { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/** A `lookup` for net.connect that resolves with `resolve` and passes on only the addresses the rule admits. */
export function guardedLookup(rule: OutboundRule, resolve: Resolver = systemResolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const admitted = addresses.filter((a) => refusedClass(rule, hostname, a.address) === null);
      const first = admitted[0];
      if (first === undefined) {
        const refused = addresses[0];
        if (refused === undefined) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
        return callback(refusedError(hostname, refused.address, refusedClass(rule, hostname, refused.address) ?? 'public'), []);
      }
      if (options.all === true) callback(null, admitted);
      else callback(null, first.address, first.family);
    });
  };
}

/** An undici connector that applies a rule: literals are judged at once, names through {@link guardedLookup}. */
export function guardedConnector(rule: OutboundRule, connectTimeoutMs: number, resolve?: Resolver): buildConnector.connector {
  const connect = buildConnector({ timeout: connectTimeoutMs, lookup: guardedLookup(rule, resolve) });
  return (options, callback) => {
    const host = bareHost(options.hostname);
    if (isIP(host) !== 0) {
      const cls = refusedClass(rule, host, host);
      if (cls !== null) return callback(refusedError(host, host, cls), null);
    }
    connect(options, callback);
  };
}

/** The Gateway's outbound side: one keep-alive agent per rule, and a fetch for provider endpoints. */
export interface Outbound {
  /** The agent of a rule (created on first use, then reused). */
  agentFor(rule: OutboundRule): Dispatcher;
  /** A fetch over a rule's agent: redirects returned, never followed (OutboundFetch of the plugin API). */
  fetchFor(rule: OutboundRule): OutboundFetch;
  close(): Promise<void>;
}

/** Creates the outbound agents with the Gateway's upstream limits (DESIGN.md §5). */
export function createOutbound(limits: UpstreamLimits = defaultUpstreamLimits, resolve?: Resolver): Outbound {
  const agents = new Map<string, { agent: Agent; fetch: OutboundFetch }>();
  const entry = (rule: OutboundRule) => {
    const key = rule.privateHosts === null ? 'open' : JSON.stringify(rule.privateHosts);
    let found = agents.get(key);
    if (found === undefined) {
      const agent = new Agent({
        connect: guardedConnector(rule, limits.connectTimeoutMs, resolve),
        headersTimeout: limits.headersTimeoutMs,
        bodyTimeout: limits.idleTimeoutMs,
        connections: limits.connectionsPerOrigin,
        keepAliveTimeout: 4_000,
        pipelining: 1,
      });
      found = { agent, fetch: outboundFetch(agent) };
      agents.set(key, found);
    }
    return found;
  };
  return {
    agentFor: (rule) => entry(rule).agent,
    fetchFor: (rule) => entry(rule).fetch,
    async close() {
      await Promise.all([...agents.values()].map((a) => a.agent.close()));
    },
  };
}

function outboundFetch(dispatcher: Dispatcher): OutboundFetch {
  return async (url, init) => {
    const response = await request(url, {
      dispatcher,
      method: init.method,
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
    return { status: response.statusCode, headers: response.headers, text: () => response.body.text() };
  };
}
