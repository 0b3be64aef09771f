/**
 * A provider's `allowed_hosts` (DESIGN.md §9): the hosts its credential may be sent to. An entry
 * is `host`, `host:port`, `*.example.com` or `*.example.com:port`, lower-case; IPv6 as `[::1]`.
 * A `*.` entry matches any subdomain at any depth, never the bare domain; an entry without a port
 * matches any port. An empty list sends the credential only to the upstreams of the resources
 * that use the provider (each resource's own host), so it restricts nothing beyond them.
 */

/** The `allowed_hosts` of a provider config (empty when absent or malformed). */
export function allowedHostsOf(config: Readonly<Record<string, unknown>>): readonly string[] {
  const hosts = config.allowed_hosts;
  return Array.isArray(hosts) ? hosts.filter((h): h is string => typeof h === 'string') : [];
}

/** The port a URL connects to (its explicit port, or the scheme's default). */
function effectivePort(url: URL): string {
  if (url.port !== '') return url.port;
  return url.protocol === 'https:' ? '443' : '80';
}

/** Splits `host[:port]` (IPv6 in brackets) into host and optional port. */
function splitEntry(entry: string): { host: string; port: string | undefined } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.toLowerCase());
  return { host: match?.[1] ?? entry.toLowerCase(), port: match?.[2] };
}

/** Whether an allowed-hosts list admits the host and port of a URL (an empty list admits every URL). */
export function isHostAllowed(allowed: readonly string[], url: URL): boolean {
  if (allowed.length === 0) return true;
  const host = url.hostname.toLowerCase();
  const port = effectivePort(url);
  return allowed.some((entry) => {
    const want = splitEntry(entry);
    if (want.port !== undefined && want.port !== port) return false;
    if (want.host.startsWith('*.')) return host.endsWith(want.host.slice(1)) && host.length > want.host.length - 1;
    return want.host === host;
  });
}

/** `host[:port]` of a URL as an allowed-hosts entry would name it (for messages and hints). */
export function hostEntryOf(url: URL): string {
  return url.port === '' ? url.hostname.toLowerCase() : `${url.hostname.toLowerCase()}:${url.port}`;
}
