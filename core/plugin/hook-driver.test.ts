import { describe, expect, it } from 'vitest';
import { CaracalError, isCaracalError } from '../errors.js';
import { createHookDriver } from './hook-driver.js';
import {
  hookKinds,
  hookNames,
  type AuthorizeContext,
  type AuthorizeDecision,
  type GatewayRequest,
  type HookName,
  type Hooks,
  type Identity,
  type IdentifyContext,
  type IdentifyResult,
  type PrepareUpstreamContext,
  type RecordContext,
  type ResponseContext,
  type Route,
} from './hooks.js';
import type { Plugin } from './types.js';

const request: GatewayRequest = {
  requestId: 'req_1',
  method: 'GET',
  path: '/invoices',
  query: '',
  headers: {},
  remoteAddress: '127.0.0.1',
};
const identity: Identity = { zoneId: 'zn_1', appId: 'app_1', scopes: ['billing:read'] };
const route: Route = { resourceId: 'resource://billing-api', upstreamUrl: 'http://127.0.0.1:9', providerId: null };
const allow: AuthorizeDecision = { effect: 'allow', reason: 'ok' };
const authorizeCtx = (policy: AuthorizeDecision = allow): AuthorizeContext => ({ request, identity, route, policy });
const responseCtx: ResponseContext = {
  request,
  identity,
  resourceId: route.resourceId,
  status: 200,
  upstreamStatus: 200,
  latencyMs: 1,
  decision: 'allow',
};
const recordCtx: RecordContext = { event: { type: 'gateway.request', zone: 'zn_1', request_id: 'req_1', decision: 'allow', reason: 'ok' } };
const upstreamCtx = (): PrepareUpstreamContext => ({
  request,
  identity,
  route,
  upstream: { url: 'http://127.0.0.1:9/invoices', headers: {} },
  provider: null,
  fetch: () => Promise.reject(new Error('no outbound calls in these tests')),
});

const plugin = (name: string, hooks: Partial<Hooks>): Plugin => ({ name, caracal: '^1', hooks });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const never = () => new Promise<never>(() => undefined);

/** A driver that collects every reported hook error. */
function driverOf(plugins: Plugin[], timeouts: Partial<Record<HookName, number>> = {}) {
  const errors: CaracalError[] = [];
  const driver = createHookDriver(plugins, { onHookError: (e) => errors.push(e), timeouts });
  return { driver, errors };
}

describe('the hook table', () => {
  it('declares every hook once with a positive timeout', () => {
    expect(hookNames.sort()).toEqual(
      ['authorize', 'identify', 'onReceive', 'onRecord', 'onResponse', 'prepareUpstream', 'route', 'setup', 'teardown'].sort(),
    );
    for (const name of hookNames) expect(hookKinds[name].timeoutMs).toBeGreaterThan(0);
  });

  it('makes deciders fail closed and observers isolated', () => {
    for (const name of ['identify', 'route', 'authorize', 'prepareUpstream'] as const) expect(hookKinds[name].failure).toBe('fail-closed');
    for (const name of ['onReceive', 'onResponse', 'onRecord', 'teardown'] as const) expect(hookKinds[name].failure).toBe('isolate');
    expect(hookKinds.setup.failure).toBe('abort');
  });
});

describe('when no plugin implements a hook', () => {
  const { driver } = driverOf([plugin('empty', {})]);
  const cases: [HookName, unknown[], unknown][] = [
    ['setup', [{ home: '/tmp', apiVersion: '1.0.0', mode: 'check' }], undefined],
    ['teardown', [{ reason: 'shutdown' }], undefined],
    ['onReceive', [{ request }], undefined],
    ['identify', [{ request, credential: { scheme: 'Bearer', value: 'x' }, resourceId: null }], undefined],
    ['route', [{ request, identity, resourceId: 'resource://x' }], undefined],
    ['authorize', [authorizeCtx()], allow],
    ['prepareUpstream', [upstreamCtx()], undefined],
    ['onResponse', [responseCtx], undefined],
    ['onRecord', [{ a: 1 }, recordCtx], { a: 1 }],
  ];
  it.each(cases)('%s resolves to its neutral result', async (name, args, expected) => {
    expect(driver.has(name)).toBe(false);
    const run = driver.runHook as (name: HookName, ...args: unknown[]) => Promise<unknown>;
    await expect(run(name, ...args)).resolves.toEqual(expected);
  });

  it('the authorize result is the policy decision itself', async () => {
    const policy: AuthorizeDecision = { effect: 'deny', reason: 'no_matching_rule' };
    expect(await driver.runHook('authorize', authorizeCtx(policy))).toBe(policy);
  });
});

describe('order', () => {
  const orderCases: { hook: 'setup' | 'teardown' | 'prepareUpstream' | 'onResponse'; expected: string[] }[] = [
    { hook: 'setup', expected: ['a', 'b', 'c'] },
    { hook: 'teardown', expected: ['c', 'b', 'a'] },
    { hook: 'prepareUpstream', expected: ['a', 'b', 'c'] },
    { hook: 'onResponse', expected: ['a', 'b', 'c'] },
  ];
  it.each(orderCases)('$hook calls plugins in order $expected', async ({ hook, expected }) => {
    const calls: string[] = [];
    const plugins = ['a', 'b', 'c'].map((name) => plugin(name, { [hook]: () => void calls.push(name) }));
    const { driver } = driverOf(plugins);
    const args = {
      setup: [{ home: '/tmp', apiVersion: '1.0.0', mode: 'check' }],
      teardown: [{ reason: 'shutdown' }],
      prepareUpstream: [upstreamCtx()],
      onResponse: [responseCtx],
    }[hook];
    await (driver.runHook as (name: HookName, ...args: unknown[]) => Promise<unknown>)(hook, ...args);
    expect(calls).toEqual(expected);
  });

  it('sequential hooks wait for each plugin before the next, and see earlier edits', async () => {
    const ctx = upstreamCtx();
    const { driver } = driverOf([
      plugin('inject', {
        prepareUpstream: async ({ upstream }) => {
          await sleep(5);
          upstream.headers['x-api-key'] = 'from-inject';
        },
      }),
      plugin('rewrite', {
        prepareUpstream: ({ upstream }) => {
          upstream.url = `${upstream.url}?seen=${upstream.headers['x-api-key'] ?? 'none'}`;
        },
      }),
    ]);
    await driver.runHook('prepareUpstream', ctx);
    expect(ctx.upstream.url).toBe('http://127.0.0.1:9/invoices?seen=from-inject');
  });

  it('parallel hooks start every plugin before any finishes', async () => {
    const events: string[] = [];
    const observer = (name: string) =>
      plugin(name, {
        onResponse: async () => {
          events.push(`start ${name}`);
          await sleep(5);
          events.push(`end ${name}`);
        },
      });
    const { driver } = driverOf([observer('a'), observer('b')]);
    await driver.runHook('onResponse', responseCtx);
    expect(events.slice(0, 2).sort()).toEqual(['start a', 'start b']);
    expect(events).toHaveLength(4);
  });
});

describe('first-wins (identify, route)', () => {
  const vouched: IdentifyResult = { ...identity, resourceId: 'resource://billing-api' };
  const other: IdentifyResult = { zoneId: 'zn_2', appId: 'app_2', scopes: [], resourceId: 'resource://billing-api' };
  const identifyCtx: IdentifyContext = { request, credential: { scheme: 'apikey', value: 'k' }, resourceId: 'resource://billing-api' };
  it('returns the first defined answer and asks no further plugin', async () => {
    const asked: string[] = [];
    const { driver } = driverOf([
      plugin('pass', { identify: () => void asked.push('pass') }),
      plugin('apikey', { identify: () => (asked.push('apikey'), vouched) }),
      plugin('late', { identify: () => (asked.push('late'), other) }),
    ]);
    const result = await driver.runHook('identify', identifyCtx);
    expect(result).toBe(vouched);
    expect(asked).toEqual(['pass', 'apikey']);
  });

  it('accepts an identity naming the headers that carried the credential', async () => {
    const answer = { ...vouched, credentialHeaders: ['X-Api-Key', 'x-api-secret'] };
    const { driver, errors } = driverOf([plugin('apikey', { identify: () => answer })]);
    expect(await driver.runHook('identify', identifyCtx)).toBe(answer);
    expect(errors).toEqual([]);
  });

  // An unusable answer is the failure of the plugin that gave it: named, reported once, fail closed.
  it.each([
    ['not an object', 'yes', 'it is not an object'],
    ['no resource', identity, 'resourceId must name the resource the credential is for'],
    ['scopes that are not strings', { ...vouched, scopes: [1] }, 'scopes must be an array of strings'],
    ['an expiry that is not a number', { ...vouched, expiresAt: 'soon' }, 'expiresAt must be a number of seconds when present'],
    ['credentialHeaders that is not an array', { ...vouched, credentialHeaders: 'x-api-key' }, 'credentialHeaders must be an array of at most 16 header names when present'],
    ['a credential header that is not a header name', { ...vouched, credentialHeaders: ['x api key'] }, 'credentialHeaders must be an array of at most 16 header names when present'],
    ['more than 16 credential headers', { ...vouched, credentialHeaders: Array.from({ length: 17 }, (_, i) => `x-key-${i}`) }, 'credentialHeaders must be an array of at most 16 header names when present'],
  ])('an identify answer with %s fails closed, naming the plugin and the problem', async (_what, answer, problem) => {
    const asked: string[] = [];
    const { driver, errors } = driverOf([
      plugin('sloppy', { identify: () => answer as IdentifyResult }),
      plugin('after', { identify: () => (asked.push('after'), other) }),
    ]);
    const error = await driver.runHook('identify', identifyCtx).catch((e: unknown) => e);
    expect(isCaracalError(error, 'CRC_PLUGIN_HOOK_FAILED')).toBe(true);
    expect((error as CaracalError).message).toBe(`plugin "sloppy" returned an unusable answer from hook identify: ${problem}`);
    expect((error as CaracalError).details).toEqual({ plugin: 'sloppy', hook: 'identify', problem });
    expect(errors).toEqual([error]);
    expect(asked).toEqual([]);
  });

  it('returns undefined when every plugin passes', async () => {
    const { driver } = driverOf([plugin('a', { route: () => undefined }), plugin('b', { route: () => Promise.resolve(undefined) })]);
    expect(await driver.runHook('route', { request, identity, resourceId: 'resource://x' })).toBeUndefined();
  });
});

describe('deny-wins (authorize)', () => {
  const verdict = (effect: 'allow' | 'deny', reason?: string) => () => (reason === undefined ? { effect } : { effect, reason });
  const cases: {
    name: string;
    policy?: AuthorizeDecision;
    hooks: Hooks['authorize'][];
    expected: AuthorizeDecision;
    reported?: string;
  }[] = [
    { name: 'every plugin allows → the policy allow stands', hooks: [verdict('allow'), () => undefined], expected: allow },
    {
      name: 'one plugin denies → deny naming it',
      hooks: [verdict('allow'), verdict('deny', 'outside_hours')],
      expected: { effect: 'deny', reason: 'outside_hours', plugin: 'p1' },
    },
    { name: 'a deny without reason → plugin_deny', hooks: [verdict('deny')], expected: { effect: 'deny', reason: 'plugin_deny', plugin: 'p0' } },
    {
      name: 'an allow cannot override a policy deny',
      policy: { effect: 'deny', reason: 'no_matching_rule' },
      hooks: [verdict('allow')],
      expected: { effect: 'deny', reason: 'no_matching_rule' },
    },
    {
      name: 'a throw → deny plugin_error',
      hooks: [verdict('allow'), () => { throw new Error('db down'); }],
      expected: { effect: 'deny', reason: 'plugin_error', plugin: 'p1' },
      reported: 'CRC_PLUGIN_HOOK_FAILED',
    },
    {
      name: 'a rejected promise → deny plugin_error',
      hooks: [() => Promise.reject(new Error('nope'))],
      expected: { effect: 'deny', reason: 'plugin_error', plugin: 'p0' },
      reported: 'CRC_PLUGIN_HOOK_FAILED',
    },
    {
      name: 'a timeout → deny plugin_timeout',
      hooks: [never],
      expected: { effect: 'deny', reason: 'plugin_timeout', plugin: 'p0' },
      reported: 'CRC_PLUGIN_HOOK_TIMEOUT',
    },
    {
      name: 'a malformed answer → deny plugin_error',
      hooks: [() => ({ effect: 'maybe' }) as never],
      expected: { effect: 'deny', reason: 'plugin_error', plugin: 'p0' },
      reported: 'CRC_PLUGIN_HOOK_FAILED',
    },
  ];

  it.each(cases)('$name', async ({ policy, hooks, expected, reported }) => {
    const { driver, errors } = driverOf(
      hooks.map((authorize, i) => plugin(`p${i}`, { authorize })),
      { authorize: 30 },
    );
    expect(await driver.runHook('authorize', authorizeCtx(policy))).toEqual(expected);
    expect(errors.map((e) => e.code)).toEqual(reported === undefined ? [] : [reported]);
  });

  it('stops at the first deny', async () => {
    const asked: string[] = [];
    const { driver } = driverOf([
      plugin('strict', { authorize: () => (asked.push('strict'), { effect: 'deny' }) }),
      plugin('later', { authorize: () => (asked.push('later'), undefined) }),
    ]);
    await driver.runHook('authorize', authorizeCtx());
    expect(asked).toEqual(['strict']);
  });

  it('asks no plugin when the policy already denied', async () => {
    let asked = false;
    const { driver } = driverOf([plugin('p', { authorize: () => void (asked = true) })]);
    await driver.runHook('authorize', authorizeCtx({ effect: 'deny', reason: 'no_matching_rule' }));
    expect(asked).toBe(false);
  });
});

describe('reduce (onRecord)', () => {
  it('threads the detail through every plugin in order', async () => {
    const { driver } = driverOf([
      plugin('a', { onRecord: (detail) => ({ ...detail, a: 1 }) }),
      plugin('skip', { onRecord: () => undefined }),
      plugin('b', { onRecord: (detail) => Promise.resolve({ ...detail, b: Object.keys(detail).join(',') }) }),
    ]);
    expect(await driver.runHook('onRecord', { base: true }, recordCtx)).toEqual({ base: true, a: 1, b: 'base,a' });
  });

  it.each([
    ['throws', () => { throw new Error('boom'); }],
    ['times out', never],
    ['returns a string', () => 'oops' as never],
  ])('keeps the previous value when a plugin %s, and reports it', async (_what, broken) => {
    const { driver, errors } = driverOf(
      [plugin('a', { onRecord: (d) => ({ ...d, a: 1 }) }), plugin('broken', { onRecord: broken }), plugin('c', { onRecord: (d) => ({ ...d, c: 1 }) })],
      { onRecord: 20 },
    );
    expect(await driver.runHook('onRecord', {}, recordCtx)).toEqual({ a: 1, c: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('plugin "broken"');
    expect(errors[0]?.message).toContain('onRecord');
  });
});

describe('parallel observers are isolated', () => {
  it.each(['onReceive', 'onResponse'] as const)('%s never rejects; failures are reported by plugin', async (hook) => {
    const ran: string[] = [];
    const { driver, errors } = driverOf(
      [
        plugin('thrower', { [hook]: () => { throw new Error('observer bug'); } }),
        plugin('hanger', { [hook]: never }),
        plugin('fine', { [hook]: () => void ran.push('fine') }),
      ],
      { [hook]: 20 },
    );
    const ctx = hook === 'onReceive' ? { request } : responseCtx;
    await expect((driver.runHook as (n: HookName, c: unknown) => Promise<unknown>)(hook, ctx)).resolves.toBeUndefined();
    expect(ran).toEqual(['fine']);
    expect(errors.map((e) => [e.code, (e.details as { plugin: string }).plugin]).sort()).toEqual([
      ['CRC_PLUGIN_HOOK_FAILED', 'thrower'],
      ['CRC_PLUGIN_HOOK_TIMEOUT', 'hanger'],
    ]);
  });
});

describe('failures of fail-closed hooks', () => {
  const failing: { hook: 'identify' | 'route' | 'prepareUpstream'; args: unknown[] }[] = [
    { hook: 'identify', args: [{ request, credential: { scheme: 'Bearer', value: 't' }, resourceId: null }] },
    { hook: 'route', args: [{ request, identity, resourceId: 'resource://x' }] },
    { hook: 'prepareUpstream', args: [upstreamCtx()] },
  ];
  const throwers: [string, () => unknown][] = [
    ['a sync throw', () => { throw new Error('credential store unreachable'); }],
    ['a rejection', () => Promise.reject(new Error('credential store unreachable'))],
    // A plugin may throw anything; the driver must still name plugin and hook.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    ['a thrown string', () => { throw 'credential store unreachable'; }],
  ];
  const matrix = failing.flatMap((f) => throwers.map(([what, fn]) => ({ ...f, what, fn })));

  it.each(matrix)('$hook with $what rejects with CRC_PLUGIN_HOOK_FAILED naming plugin and hook', async ({ hook, args, fn }) => {
    const calledAfter: string[] = [];
    const { driver, errors } = driverOf([
      plugin('vault', { [hook]: fn }),
      plugin('after', { [hook]: () => void calledAfter.push('after') }),
    ]);
    const run = driver.runHook as (n: HookName, ...a: unknown[]) => Promise<unknown>;
    const error = await run(hook, ...args).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCaracalError(error, 'CRC_PLUGIN_HOOK_FAILED')).toBe(true);
    expect((error as CaracalError).message).toBe(`plugin "vault" failed in hook ${hook}: credential store unreachable`);
    expect((error as CaracalError).details).toMatchObject({ plugin: 'vault', hook });
    expect(errors).toEqual([error]);
    expect(calledAfter).toEqual([]);
  });

  it('a timeout rejects with CRC_PLUGIN_HOOK_TIMEOUT and aborts the signal the plugin holds', async () => {
    let seen: AbortSignal | undefined;
    const { driver } = driverOf([plugin('slow', { route: (_ctx, hook) => ((seen = hook.signal), never()) })], { route: 15 });
    const error = await driver.runHook('route', { request, identity, resourceId: 'resource://x' }).catch((e: unknown) => e);
    expect(isCaracalError(error, 'CRC_PLUGIN_HOOK_TIMEOUT')).toBe(true);
    expect((error as CaracalError).message).toBe('plugin "slow" did not finish hook route within 15 ms');
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('a plugin finishing in time keeps an unaborted signal and gets its own context', async () => {
    const contexts: { plugin: string; hook: string; aborted: boolean }[] = [];
    const { driver } = driverOf(
      ['a', 'b'].map((name) =>
        plugin(name, {
          prepareUpstream: async (_ctx, hook) => {
            await sleep(1);
            contexts.push({ plugin: hook.plugin, hook: hook.hook, aborted: hook.signal.aborted });
          },
        }),
      ),
      { prepareUpstream: 1_000 },
    );
    await driver.runHook('prepareUpstream', upstreamCtx());
    expect(contexts).toEqual([
      { plugin: 'a', hook: 'prepareUpstream', aborted: false },
      { plugin: 'b', hook: 'prepareUpstream', aborted: false },
    ]);
  });
});

describe('kernel hooks', () => {
  const setupCtx = { home: '/tmp/h', apiVersion: '1.0.0', mode: 'check' } as const;

  it('a throwing setup disables that plugin only, and its hooks are no longer called', async () => {
    const calls: string[] = [];
    const { driver, errors } = driverOf([
      plugin('broken', {
        setup: () => { throw new Error('missing option "url"'); },
        onResponse: () => void calls.push('broken'),
      }),
      plugin('ok', { setup: () => void calls.push('ok setup'), onResponse: () => void calls.push('ok') }),
    ]);
    await driver.runHook('setup', setupCtx);
    await driver.runHook('onResponse', responseCtx);
    expect(calls).toEqual(['ok setup', 'ok']);
    expect([...driver.disabled.keys()]).toEqual(['broken']);
    expect(driver.disabled.get('broken')?.message).toBe('plugin "broken" failed in hook setup: missing option "url"');
    expect(errors).toHaveLength(1);
  });

  it('a failing teardown is reported and the others still run', async () => {
    const stopped: string[] = [];
    const { driver, errors } = driverOf([
      plugin('a', { teardown: () => void stopped.push('a') }),
      plugin('b', { teardown: () => Promise.reject(new Error('socket already closed')) }),
      plugin('c', { teardown: () => void stopped.push('c') }),
    ]);
    await expect(driver.runHook('teardown', { reason: 'shutdown' })).resolves.toBeUndefined();
    expect(stopped).toEqual(['c', 'a']);
    expect(errors[0]?.message).toBe('plugin "b" failed in hook teardown: socket already closed');
  });
});

describe('has()', () => {
  it('follows implementations and disabling', () => {
    const { driver } = driverOf([plugin('a', { authorize: () => undefined })]);
    expect(driver.has('authorize')).toBe(true);
    expect(driver.has('identify')).toBe(false);
    driver.disable('a', new CaracalError('CRC_PLUGIN_LOAD', 'disabled by test'));
    expect(driver.has('authorize')).toBe(false);
  });
});
