import { describe, expect, it } from 'vitest';
import { parseClientCredentials } from './client-auth.js';
import type { ClientAuthInput } from './client-auth.js';

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
const id = 'app_01JAPP00000000000000000000';
const secret = 'cs_Zm9vYmFyYmF6cXV4LWFuZC1tb3JlLXJhbmRvbQ';

describe('parseClientCredentials', () => {
  it.each<[string, ClientAuthInput, { clientId: string; clientSecret: string; method: string }]>([
    ['HTTP Basic', { authorization: basic(`${id}:${secret}`) }, { clientId: id, clientSecret: secret, method: 'client_secret_basic' }],
    ['HTTP Basic with a lower-case scheme', { authorization: `basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` }, { clientId: id, clientSecret: secret, method: 'client_secret_basic' }],
    [
      'percent-encoded Basic credentials (RFC 6749 §2.3.1)',
      { authorization: basic('my%20client:p%3Ass%2Bw%25rd') },
      { clientId: 'my client', clientSecret: 'p:ss+w%rd', method: 'client_secret_basic' },
    ],
    ['"+" as a space in Basic credentials', { authorization: basic('a+b:c+d') }, { clientId: 'a b', clientSecret: 'c d', method: 'client_secret_basic' }],
    ['UTF-8 in Basic credentials', { authorization: basic('caf%C3%A9:s') }, { clientId: 'café', clientSecret: 's', method: 'client_secret_basic' }],
    ['a secret containing ":" after the first one', { authorization: basic('a:b:c') }, { clientId: 'a', clientSecret: 'b:c', method: 'client_secret_basic' }],
    ['body parameters', { body: { client_id: id, client_secret: secret } }, { clientId: id, clientSecret: secret, method: 'client_secret_post' }],
    ['body parameters as one-element arrays', { body: { client_id: [id], client_secret: [secret] } }, { clientId: id, clientSecret: secret, method: 'client_secret_post' }],
    [
      'Basic plus the same client_id in the body (RFC 6749 §3.2.1)',
      { authorization: basic(`${id}:${secret}`), body: { client_id: id } },
      { clientId: id, clientSecret: secret, method: 'client_secret_basic' },
    ],
  ])('reads %s', (_name, input, expected) => {
    expect(parseClientCredentials(input)).toEqual({ ok: true, ...expected });
  });

  it.each<[string, ClientAuthInput, 'invalid_request' | 'invalid_client', RegExp]>([
    ['both methods at once', { authorization: basic(`${id}:${secret}`), body: { client_id: id, client_secret: secret } }, 'invalid_request', /exactly one method/],
    ['Basic with a different client_id in the body', { authorization: basic(`${id}:${secret}`), body: { client_id: 'app_other' } }, 'invalid_request', /differs/],
    ['a repeated client_id', { body: { client_id: [id, id], client_secret: secret } }, 'invalid_request', /only once/],
    ['a repeated client_secret', { body: { client_id: id, client_secret: [secret, 'x'] } }, 'invalid_request', /only once/],
    ['no credentials at all', {}, 'invalid_client', /No client authentication/],
    ['client_id without a secret', { body: { client_id: id } }, 'invalid_client', /client_secret is missing/],
    ['a Bearer header', { authorization: `Bearer ${secret}` }, 'invalid_client', /must be "Basic/],
    ['Basic without a value', { authorization: 'Basic' }, 'invalid_client', /must be "Basic/],
    ['Basic that is not base64', { authorization: 'Basic !!!notbase64' }, 'invalid_client', /not valid base64/],
    ['Basic without a colon', { authorization: basic('justanid') }, 'invalid_client', /client_id:client_secret/],
    ['Basic with an empty secret', { authorization: basic(`${id}:`) }, 'invalid_client', /both a client_id and a client_secret/],
    ['Basic with a broken percent escape', { authorization: basic('a%zz:b') }, 'invalid_client', /form-urlencoded/],
    ['an overlong body secret', { body: { client_id: id, client_secret: 'x'.repeat(2000) } }, 'invalid_client', /too long/],
  ])('refuses %s', (_name, input, error, message) => {
    const result = parseClientCredentials(input);
    expect(result).toMatchObject({ ok: false, error, status: error === 'invalid_client' ? 401 : 400 });
    if (!result.ok) {
      expect(result.message).toMatch(message);
      expect(result.message).not.toContain(secret);
    }
  });
});
