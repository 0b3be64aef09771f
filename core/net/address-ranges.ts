import { BlockList, isIP } from 'node:net';

/**
 * The address ranges outbound traffic is judged by (DESIGN.md §3, §5), in one place: the control
 * plane checks upstream and token-endpoint URLs by name with them, and the Gateway checks every
 * address it is about to connect to (gateway/outbound.ts), so a DNS name cannot smuggle a
 * refused address past the check made at creation.
 *
 * - `never` classes are refused for every upstream in every zone: link-local (RFC 3927, RFC 4291),
 *   cloud metadata endpoints, multicast and unspecified/"this network" addresses.
 * - `private` classes (loopback, RFC 1918, RFC 6598 shared, RFC 4193 unique local) are allowed in
 *   evaluation zones, and in production zones only where the zone lists them.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'multicast' | 'unspecified';

type Family = 'ipv4' | 'ipv6';

function blockList(ranges: readonly (readonly [string, number, Family])[]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, family] of ranges) list.addSubnet(net, prefix, family);
  return list;
}

/** Checked first: the metadata endpoints sit inside the link-local and unique-local ranges. */
const metadata = blockList([
  ['169.254.169.254', 32, 'ipv4'],
  ['169.254.170.2', 32, 'ipv4'], // AWS ECS task metadata
  ['fd00:ec2::254', 128, 'ipv6'],
]);
const unspecified = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['::', 128, 'ipv6'],
]);
const linkLocal = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const multicast = blockList([
  ['224.0.0.0', 4, 'ipv4'],
  ['255.255.255.255', 32, 'ipv4'],
  ['ff00::', 8, 'ipv6'],
]);
const loopback = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
const privateNets = blockList([
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);

const ORDER: readonly (readonly [Exclude<AddressClass, 'public'>, BlockList])[] = [
  ['metadata', metadata],
  ['unspecified', unspecified],
  ['link-local', linkLocal],
  ['multicast', multicast],
  ['loopback', loopback],
  ['private', privateNets],
];

/** Strips the brackets of an IPv6 URL host and lower-cases it. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** The class of an IP address literal (IPv4-mapped IPv6 judged as its IPv4 address), or null for a name. */
export function classifyAddress(address: string): AddressClass | null {
  let host = bareHost(address);
  let family = isIP(host);
  if (family === 0) return null;
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)?.[1] : undefined;
  if (mapped !== undefined) {
    host = mapped;
    family = 4;
  }
  const type: Family = family === 4 ? 'ipv4' : 'ipv6';
  for (const [name, list] of ORDER) if (list.check(host, type)) return name;
  return 'public';
}

/** Whether no upstream may ever be reached at an address of this class, whatever the zone. */
export function isNeverAllowed(cls: AddressClass): boolean {
  return cls === 'metadata' || cls === 'unspecified' || cls === 'link-local' || cls === 'multicast';
}

/** Whether an address class is loopback or private (allowed by evaluation zones, listed hosts of production zones). */
export function isPrivateClass(cls: AddressClass): boolean {
  return cls === 'loopback' || cls === 'private';
}

/** Words for a refused class, for messages ("169.254.169.254 (cloud metadata)"). */
export const addressClassWords: Readonly<Record<AddressClass, string>> = {
  public: 'public',
  loopback: 'loopback',
  private: 'private network',
  'link-local': 'link-local',
  metadata: 'cloud metadata',
  multicast: 'multicast',
  unspecified: 'unspecified',
};

/** Whether a URL hostname names a loopback or private host literally (a DNS name is judged by the Gateway when it connects). */
export function isPrivateHost(hostname: string): boolean {
  const host = bareHost(hostname);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const cls = classifyAddress(host);
  return cls !== null && isPrivateClass(cls);
}

/**
 * Whether a production zone's `allowed_private_hosts` admits a host: an entry is an exact host
 * name or address, or a CIDR that contains the address. `address` is the resolved address when
 * the Gateway checks a connection (a listed name admits whatever it resolves to).
 */
export function isListedPrivateHost(allowed: readonly string[], hostname: string, address?: string): boolean {
  const host = bareHost(hostname);
  const ip = address === undefined ? host : bareHost(address);
  const family = isIP(ip);
  return allowed.some((entry) => {
    const [net, prefix] = entry.toLowerCase().split('/');
    if (prefix === undefined) return net === host || net === ip;
    const netFamily = isIP(net ?? '');
    if (family === 0 || netFamily !== family) return false;
    const type: Family = family === 4 ? 'ipv4' : 'ipv6';
    const list = new BlockList();
    list.addSubnet(net ?? '', Number(prefix), type);
    return list.check(ip, type);
  });
}
