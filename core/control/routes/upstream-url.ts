import { BlockList, isIP } from 'node:net';
import type { Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';

/** Loopback, private, link-local, shared and unspecified ranges (RFC 1918, 6598, 3927, 4193, 4291). */
const privateRanges = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv6');
}

/** Whether a URL hostname names a loopback or private address literally (a DNS name is judged by the Gateway when it connects). */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 4) return privateRanges.check(host, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)?.[1];
    return mapped === undefined ? privateRanges.check(host, 'ipv6') : privateRanges.check(mapped, 'ipv4');
  }
  return false;
}

/** Whether a production zone lists a private host (exact name, or an address inside a listed CIDR). */
function isListed(zone: Zone, hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const family = isIP(host);
  return zone.allowedPrivateHosts.some((entry) => {
    const [net, prefix] = entry.toLowerCase().split('/');
    if (prefix === undefined) return net === host;
    const netFamily = isIP(net ?? '');
    if (family === 0 || netFamily !== family) return false;
    const list = new BlockList();
    list.addSubnet(net ?? '', Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
    return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
  });
}

function refuse(message: string, hint: string): CaracalError {
  return new CaracalError('CRC_VALIDATION', message, { details: [{ path: 'upstream_url', message }], hint });
}

/**
 * Checks a resource's upstream URL (DESIGN.md §3, §5): absolute http(s), no credentials, no query
 * or fragment (the Gateway joins the base with each request's own path and query), and in a
 * production zone no loopback or private host unless the zone lists it. Returns the URL as given.
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
  if (zone.kind === 'production' && isPrivateHost(url.hostname) && !isListed(zone, url.hostname)) {
    throw refuse(
      `upstream_url points at the loopback or private host ${url.hostname}, which production zone ${zone.name} refuses`,
      `add ${url.hostname} to the zone's allowed_private_hosts (caracal zones update ${zone.name} --allowed-private-hosts …), or use an evaluation zone`,
    );
  }
  return value;
}
