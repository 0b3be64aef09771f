import type { Provider, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { addressClassWords, classifyAddress, isListedPrivateHost, isNeverAllowed, isPrivateHost } from '../../net/address-ranges.js';
import { allowedHostsOf, hostEntryOf, isHostAllowed } from '../../net/allowed-hosts.js';

function refuse(message: string, hint: string, path = 'upstream_url'): CaracalError {
  return new CaracalError('CRC_VALIDATION', message, { details: [{ path, message }], hint });
}

/**
 * Checks the host of an outbound URL by name (DESIGN.md §3): a literal link-local, metadata,
 * multicast or unspecified address is refused in every zone; a loopback or private host in a
 * production zone unless the zone lists it. Names are judged again, by address, when the Gateway
 * connects (gateway/outbound.ts). `field` names the URL in messages (upstream_url, config.token_url).
 */
export function checkOutboundHost(url: URL, zone: Zone, field: string): void {
  const cls = classifyAddress(url.hostname);
  if (cls !== null && isNeverAllowed(cls)) {
    throw refuse(
      `${field} points at ${url.hostname}, a ${addressClassWords[cls]} address, which Caracal never connects to`,
      'use the host name or routable address of the service',
      field,
    );
  }
  if (zone.kind === 'production' && isPrivateHost(url.hostname) && !isListedPrivateHost(zone.allowedPrivateHosts, url.hostname)) {
    throw refuse(
      `${field} points at the loopback or private host ${url.hostname}, which production zone ${zone.name} refuses`,
      `add ${url.hostname} to the zone's allowed_private_hosts (caracal zones update ${zone.name} --allowed-private-hosts …), or use an evaluation zone`,
      field,
    );
  }
}

/**
 * Refuses a resource whose upstream host is not among its provider's allowed hosts (DESIGN.md §9),
 * naming the host and both ways to fix it.
 */
export function checkProviderHost(upstreamUrl: string, provider: Provider, zone: Zone): void {
  const allowed = allowedHostsOf(provider.config);
  const url = new URL(upstreamUrl);
  if (isHostAllowed(allowed, url)) return;
  const host = hostEntryOf(url);
  throw refuse(
    `upstream_url host ${host} is not an allowed host of provider ${provider.name} (allowed: ${allowed.join(', ')}), so its credential would never be sent there`,
    `point the resource at an allowed host, or allow it: caracal providers update ${provider.name} --allowed-hosts ${[...allowed, host].join(',')} --zone ${zone.name}`,
  );
}

/**
 * Checks a resource's upstream URL (DESIGN.md §3, §5): absolute http(s), no credentials, no query
 * or fragment (the Gateway joins the base with each request's own path and query), and a host
 * checkOutboundHost admits. Returns the URL as given.
 */
export function checkUpstreamUrl(value: string, zone: Zone): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse(
      `upstream_url "${value.slice(0, 200)}" is not an absolute URL`,
      'write it in full, e.g. https://api.example.com/v1 or http://127.0.0.1:8080',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refuse(`upstream_url must use http or https, not ${url.protocol.slice(0, -1)}`, 'e.g. https://api.example.com/v1');
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo the URL here: its userinfo may be a password.
    throw refuse(
      'upstream_url must not contain a user name or password (user:password@host)',
      'remove them from the URL and put the credential in a provider (caracal providers create --kind basic …)',
    );
  }
  if (url.hash !== '' || value.includes('#')) {
    throw refuse('upstream_url must not contain a fragment (#…)', 'remove the part from "#" on; fragments are never sent to a server');
  }
  if (url.search !== '' || value.includes('?')) {
    throw refuse(
      'upstream_url must not contain a query string (?…)',
      'give the base URL only; the Gateway appends each request\'s own path and query',
    );
  }
  checkOutboundHost(url, zone, 'upstream_url');
  return value;
}
