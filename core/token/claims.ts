/**
 * The access token's shape (DESIGN.md §4; RFC 9068, "JWT Profile for OAuth 2.0 Access Tokens"):
 * what core/token/mint.ts writes and core/token/verify.ts accepts.
 */

/** The JOSE header `typ` of an access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** The only signature algorithm Caracal signs with and accepts. */
export const ACCESS_TOKEN_ALG = 'ES256';
/** Lifetime of a token when the caller names none (seconds). */
export const DEFAULT_TOKEN_TTL_SECONDS = 600;
/** The longest lifetime a token may have (seconds); key rotation keeps old keys this long. */
export const MAX_TOKEN_TTL_SECONDS = 3600;
/** Tokens longer than this are refused before any parsing (DESIGN.md §5 limits). */
export const MAX_TOKEN_BYTES = 4096;

/** The claims of a Caracal access token, exactly as minted (RFC 9068 §2.2 plus `zone`). */
export interface AccessTokenClaims {
  /** The control plane's issuer URL. */
  readonly iss: string;
  /** The app ID (the token's subject is the client itself: client credentials grant). */
  readonly sub: string;
  /** The app ID. */
  readonly client_id: string;
  /** The resource ID the token is for (RFC 8707); one resource per token. */
  readonly aud: string;
  /** Granted scopes, space-delimited (RFC 6749 §3.3). */
  readonly scope: string;
  /** The zone ID whose key signed the token. */
  readonly zone: string;
  /** The token ID (`tok_…`), the handle for revocation and audit joins. */
  readonly jti: string;
  /** Issued at, nbf and expiry: seconds since the epoch. */
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
}

/** The store setting holding the control plane's issuer URL, so every Gateway accepts the same `iss`. */
export const ISSUER_SETTING = 'issuer';
