import type { PrepareUpstreamContext, UpstreamProvider } from '../../core/plugin/hooks.js';
import { upstreamRefusal } from '../../core/plugin/types.js';
import type { TokenCache } from './oauth-tokens.js';

/**
 * Puts a provider's credential on the outgoing request (DESIGN.md §5, §9), in the config shapes of
 * core/control/routes/provider-config.ts. The Gateway has already removed the caller's
 * `Authorization` and every `X-Caracal-*` header; a caller header or query parameter with the
 * credential's own name is replaced, never sent beside it. Synchronous unless an OAuth token must
 * be fetched: the hook driver then needs no timer and no promise for the call.
 */
export function injectCredential(ctx: PrepareUpstreamContext, tokens: TokenCache): void | Promise<void> {
  const provider = ctx.provider;
  if (provider === null) return;
  const { headers } = ctx.upstream;
  const config = provider.config;
  switch (provider.kind) {
    case 'api-key': {
      const key = secret(provider, 'api_key');
      if (typeof config.query === 'string') ctx.upstream.url = withQueryParameter(ctx.upstream.url, config.query, key);
      else headers[headerName(provider, config.header)] = typeof config.scheme === 'string' ? `${config.scheme} ${key}` : key;
      return;
    }
    case 'bearer': {
      const scheme = typeof config.scheme === 'string' ? config.scheme : 'Bearer';
      headers[headerName(provider, config.header ?? 'authorization')] = `${scheme} ${secret(provider, 'token')}`;
      return;
    }
    case 'basic': {
      const pair = `${secret(provider, 'username')}:${secret(provider, 'password')}`;
      headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
      return;
    }
    case 'oauth2-client-credentials': {
      const token = tokens.token(provider, ctx.fetch);
      if (typeof token === 'string') headers.authorization = `Bearer ${token}`;
      else return token.then((value) => void (headers.authorization = `Bearer ${value}`));
      return;
    }
    default:
      throw upstreamRefusal('provider_unavailable', `provider ${provider.name} has kind ${provider.kind}, which this plugin does not inject`);
  }
}

/** A credential field, or a refusal naming the provider and the missing field (never a value). */
function secret(provider: UpstreamProvider, key: string): string {
  const value = provider.credentials[key];
  if (value === undefined || value === '') {
    throw upstreamRefusal('provider_unavailable', `provider ${provider.name} has no ${key}; set it (caracal providers set-credentials ${provider.name})`);
  }
  return value;
}

/** The lower-case header the credential goes in (the record's names are lower case). */
function headerName(provider: UpstreamProvider, name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw upstreamRefusal('provider_unavailable', `provider ${provider.name} names no header or query parameter for its key; set one (caracal providers update)`);
  }
  return name.toLowerCase();
}

/**
 * Sets one query parameter on a URL: every parameter of that name the caller sent is dropped, the
 * others keep their exact bytes (re-serialising the whole query would change what the policy saw).
 */
export function withQueryParameter(url: string, name: string, value: string): string {
  const q = url.indexOf('?');
  const base = q === -1 ? url : url.slice(0, q);
  const kept = q === -1 ? [] : url.slice(q + 1).split('&').filter((pair) => pair !== '' && parameterName(pair) !== name);
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${base}?${kept.join('&')}`;
}

function parameterName(pair: string): string {
  const raw = pair.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
