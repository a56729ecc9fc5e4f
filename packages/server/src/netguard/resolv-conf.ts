/**
 * The system's resolvers, from /etc/resolv.conf (resolv.conf(5)): the upstreams the guard
 * forwards to when REMPART_DNS_UPSTREAMS is not set.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** `nameserver` lines of a resolv.conf text, in order; a scoped IPv6 address keeps no zone. */
export function parseResolvConf(text: string): { host: string; port: number }[] {
  const servers: { host: string; port: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1]?.split('%')[0];
    if (host !== undefined && isIP(host) !== 0) servers.push({ host, port: 53 });
  }
  return servers;
}

export function systemResolvers(file = '/etc/resolv.conf'): { host: string; port: number }[] {
  try {
    return parseResolvConf(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}
