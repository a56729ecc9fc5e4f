/**
 * Retro-hunts: new indicators matched against what the platform already holds. A bundle published
 * today names domains that phones may have asked for last week; the network guard's query log and
 * the stored scans still say which.
 */
import type { RetroHunt } from '@rempart/core';
import type { IndicatorMatcher } from '../matcher.js';

export type DnsHit = RetroHunt['dnsHits'][number];
export type ScanHit = RetroHunt['scanHits'][number];

/** What a retro-hunt reads of the network guard's query log (its service, never its table). */
export interface DnsQueryLog {
  /** The distinct names the log holds within its retention. */
  queriedNames(): Promise<string[]>;
  /** Who asked for `names`: per client and name, the first and last time and how often. */
  queriesOf(
    names: readonly string[],
  ): Promise<{ client: string; name: string; firstSeen: Date; lastSeen: Date; count: number }[]>;
}

/**
 * The stored scans, matched again with new indicators (implemented by the fleet of scanned
 * devices, over the raw extracts it still keeps).
 */
export interface ScanRetroHunter {
  retroHunt(
    matcher: IndicatorMatcher,
    onProgress: (done: number, total: number) => void,
  ): Promise<RetroHunt['scanHits']>;
}

/** How many names are matched between two progress reports. */
const PROGRESS_EVERY = 5000;

/**
 * The clients of the query log that asked for a name at or below one of `matcher`'s domains,
 * one hit per client and name, in client then name order.
 *
 * @example
 *   await huntDns(IndicatorMatcher.from([bundle]), netguard, () => {})
 *   // [{ client: '10.0.0.7', domain: 'cdn.weather4free.com', indicator: 'weather4free.com', malware: ['Pegasus'], … }]
 */
export async function huntDns(
  matcher: IndicatorMatcher,
  log: DnsQueryLog,
  onProgress: (done: number, total: number) => void,
): Promise<DnsHit[]> {
  const names = await log.queriedNames();
  onProgress(0, names.length);
  // The names are matched here, each in a few hash probes, rather than in SQL: a bundle holds
  // thousands of domains, each of which would be a pattern for the database to try on every name.
  const matched = new Map<string, { indicator: string; malware: string[] }>();
  names.forEach((name, i) => {
    const hit = matcher.domain(name);
    if (hit) matched.set(name, { indicator: hit.indicator, malware: hit.malware });
    if ((i + 1) % PROGRESS_EVERY === 0) onProgress(i + 1, names.length);
  });
  onProgress(names.length, names.length);
  if (matched.size === 0) return [];
  const rows = await log.queriesOf([...matched.keys()]);
  return rows.flatMap((row) => {
    const hit = matched.get(row.name);
    if (!hit) return [];
    return [
      {
        client: row.client,
        domain: row.name,
        indicator: hit.indicator,
        malware: hit.malware,
        firstSeen: row.firstSeen.toISOString(),
        lastSeen: row.lastSeen.toISOString(),
        count: Math.max(1, row.count),
      },
    ];
  });
}
