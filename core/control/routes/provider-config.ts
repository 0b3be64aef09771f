import type { z } from 'zod';
import type { ProviderKind } from '../../domain/types.js';
import { lazySchema, type Zod } from '../../lazy-zod.js';

/**
 * What each provider kind keeps (DESIGN.md §3, §9): non-secret `config`, returned by the API, and
 * write-only `credentials`, sealed at rest and never returned (only their key names are). The
 * third-party-provider scenario and the Gateway read `config` in exactly these shapes.
 */

function buildProviderSchemas(z: Zod) {
  /** An HTTP field name (RFC 9110 token), lower-cased. */
  const headerName = z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'a header name is 1–100 token characters, e.g. X-Api-Key')
    .transform((v) => v.toLowerCase());
  const queryName = z.string().regex(/^[A-Za-z0-9._~-]{1,100}$/, 'a query parameter name is 1–100 letters, digits, ".", "_", "~" or "-"');
  const scheme = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/, 'an auth scheme is one word, e.g. Bearer or Token');
  const host = z
    .string()
    .regex(
      /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/,
      'a host is a lowercase DNS name (optionally *.example.com), an IP address, or [IPv6], with an optional :port',
    );
  /** Hosts a provider's credential may be sent to; empty means only the upstream host of the resources using it. */
  const allowedHosts = z.array(host).max(50, 'list at most 50 allowed hosts').default([]);
  const httpUrl = z
    .string()
    .max(2048)
    .refine((v) => {
      try {
        const url = new URL(v);
        return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' && url.hash === '';
      } catch {
        return false;
      }
    }, 'use an absolute http(s) URL without user:password@ or #fragment, e.g. https://auth.example.com/oauth2/token');
  const scopeToken = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/, 'a scope is printable ASCII without spaces, quotes or backslashes');

  /** Non-secret settings per provider kind. */
  const config = {
    'api-key': z
      .object({ header: headerName.optional(), query: queryName.optional(), scheme: scheme.optional(), allowed_hosts: allowedHosts })
      .strict()
      .refine((c) => (c.header === undefined) !== (c.query === undefined), {
        message: 'give exactly one of "header" (send the key in a request header) or "query" (in a query parameter)',
      })
      .refine((c) => c.scheme === undefined || c.header !== undefined, { message: '"scheme" applies only to a key sent in a header', path: ['scheme'] }),
    bearer: z
      .object({ header: headerName.default('authorization'), scheme: scheme.default('Bearer'), allowed_hosts: allowedHosts })
      .strict(),
    basic: z.object({ allowed_hosts: allowedHosts }).strict(),
    'oauth2-client-credentials': z
      .object({
        token_url: httpUrl,
        client_id: z.string().min(1).max(512),
        scopes: z.array(scopeToken).max(50).default([]),
        audience: z.string().min(1).max(2048).optional(),
        auth_method: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
        allowed_hosts: allowedHosts,
      })
      .strict(),
  } as const satisfies Record<ProviderKind, z.ZodType>;

  const secret = z.string().min(1, 'must not be empty').max(16 * 1024, 'must be at most 16 KiB');

  /** The secret material per provider kind (write-only). */
  const credentials = {
    'api-key': z.object({ api_key: secret }).strict(),
    bearer: z.object({ token: secret }).strict(),
    basic: z.object({ username: secret.refine((v) => !v.includes(':'), 'a basic-auth user name cannot contain ":"'), password: secret }).strict(),
    'oauth2-client-credentials': z.object({ client_secret: secret }).strict(),
  } as const satisfies Record<ProviderKind, z.ZodType>;
  return { config, credentials };
}

/** The schemas of each provider kind's `config` and `credentials`, built on first use. */
export const providerSchemas = lazySchema(buildProviderSchemas);
type ProviderSchemas = ReturnType<typeof buildProviderSchemas>;

export type ProviderConfig<K extends ProviderKind> = z.output<ProviderSchemas['config'][K]>;
export type ProviderCredentials<K extends ProviderKind> = z.output<ProviderSchemas['credentials'][K]>;

/** The provider kinds, in the order the CLI and console offer them (the schemas' keys; a test holds them equal). */
export const providerKinds: ProviderKind[] = ['api-key', 'bearer', 'basic', 'oauth2-client-credentials'];
