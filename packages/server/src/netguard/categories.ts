/**
 * The categories that ship with Rempart, ready for a group's policy to block: TikTok and ByteDance,
 * encrypted DNS that would bypass the guard, and the domains of known spyware.
 *
 * The data lives in `packages/server/assets/netguard/` (see SOURCES.md there), found relative to
 * this module so that it works from the sources and from the build alike. The spyware domains
 * are read from Amnesty International's STIX 2 bundles as published, so that updating them is
 * copying a file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RempartError } from '@rempart/core';
import { readStixBundle, shippedIndicatorsDir, type StixSkipped } from '../spyware/stix.js';
import { listFromEntries, normaliseDomain, parseList, type ListEntry, type ParsedList } from './lists.js';

export type CategoryId = 'tiktok-bytedance' | 'doh-bypass' | 'spyware';

/** App identifiers of a category, for the device profiles that block installing them. */
export interface AppIdentifiers {
  /** Android package names. */
  android: readonly string[];
  /** iOS bundle identifiers. */
  ios: readonly string[];
}

export interface Category {
  id: CategoryId;
  title: string;
  description: string;
  /** Where the data comes from, and its licence. */
  source: string;
  list: ParsedList;
  apps?: AppIdentifiers;
  /** Indicators that carry a name or address but could not become a rule (an IP address). */
  skipped?: readonly StixSkipped[];
}

/**
 * TikTok's apps. Android: the worldwide app, its package in some Asian markets ("trill"), TikTok
 * Lite. iOS: the worldwide app and its bundle in some Asian markets.
 */
export const TIKTOK_APPS: AppIdentifiers = Object.freeze({
  android: Object.freeze([
    'com.zhiliaoapp.musically',
    'com.ss.android.ugc.trill',
    'com.zhiliaoapp.musically.go',
  ]),
  ios: Object.freeze(['com.zhiliaoapp.musically', 'com.ss.iphone.ugc.Ame']),
});

/**
 * Firefox's canary domain (https://support.mozilla.org/kb/canary-domain-use-application-dnsnet).
 * Only a negative answer (NXDOMAIN) keeps Firefox's automatic DNS over HTTPS off: a sinkhole
 * address such as 0.0.0.0 would turn it on. So the resolver must answer NXDOMAIN for it, whatever
 * its blocking mode.
 */
export const DOH_CANARY_DOMAIN = 'use-application-dns.net';

const AMNESTY_SOURCE =
  'Amnesty International, github.com/AmnestyTech/investigations, CC-BY (attribution kept in assets/spyware/iocs/SOURCE.md)';

/** The folder of the shipped data: `packages/server/assets/netguard/`, from `src/` or `dist/`. */
export function netguardAssetsDir(): string {
  return fileURLToPath(new URL('../../assets/netguard/', import.meta.url));
}

/**
 * Reads and parses the shipped categories. Throws a `validation_failed` error naming the file and
 * object when a bundle is malformed: shipped data is expected to be right.
 *
 * @example
 *   const tiktok = loadCategories().find((c) => c.id === 'tiktok-bytedance');
 *   tiktok?.apps?.android // ['com.zhiliaoapp.musically', …]
 */
export function loadCategories(assetsDir: string = netguardAssetsDir()): Category[] {
  // The shipped files never change while the process runs, and parsing the STIX bundles takes a
  // few hundred milliseconds: every platform a process opens shares one reading.
  let categories = loaded.get(assetsDir);
  if (categories === undefined) {
    categories = readCategories(assetsDir);
    loaded.set(assetsDir, categories);
  }
  return categories;
}

const loaded = new Map<string, Category[]>();

function readCategories(assetsDir: string): Category[] {
  const read = (file: string) => readFileSync(join(assetsDir, file), 'utf8');
  const spywareDir = shippedIndicatorsDir();
  const bundles = readdirSync(spywareDir)
    .filter((file) => file.endsWith('.stix2'))
    .sort();
  const entries: ListEntry[] = [];
  const skipped: StixSkipped[] = [];
  for (const file of bundles) {
    const text = readFileSync(join(spywareDir, file), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw RempartError.validation(`${file}: not JSON (${(error as Error).message})`);
    }
    const found = domainsFromStix(json, file);
    for (const d of found.domains) {
      entries.push({
        domain: d.domain,
        text: `${file} ${d.indicator} ${d.pattern}`,
        ...(d.malware.length > 0 ? { label: d.malware.join(', ') } : {}),
      });
    }
    skipped.push(...found.skipped);
  }

  return [
    {
      id: 'tiktok-bytedance',
      title: 'TikTok and ByteDance',
      description:
        "The TikTok app and web site, the content networks they load from, ByteDance's infrastructure they depend on, and Douyin.",
      source: 'Rempart (assets/netguard/tiktok-bytedance.txt; sources consulted in SOURCES.md)',
      list: parseList(read('tiktok-bytedance.txt'), { name: 'tiktok-bytedance', format: 'domains' }),
      apps: TIKTOK_APPS,
    },
    {
      id: 'doh-bypass',
      title: 'Encrypted DNS bypass',
      description:
        "Public DNS-over-HTTPS and DNS-over-TLS resolvers a device could use instead of the network's, Firefox's canary domain and iCloud Private Relay. Pair it with a firewall rule for port 853.",
      source: 'Rempart (assets/netguard/doh-bypass.txt; sources consulted in SOURCES.md)',
      list: parseList(read('doh-bypass.txt'), { name: 'doh-bypass', format: 'domains' }),
    },
    spywareCategory(entries, skipped),
  ];
}

/** The spyware category over `entries` (one per domain, labelled with its malware). */
export function spywareCategory(
  entries: readonly ListEntry[],
  skipped: readonly StixSkipped[] = [],
  source: string = AMNESTY_SOURCE,
): Category {
  const families = [...new Set(entries.map((e) => e.label).filter(Boolean))];
  return {
    id: 'spyware',
    title: 'Spyware',
    description: `Domains of mercenary spyware (${families.join(', ')}) from published investigations. A device asking for one is probably infected.`,
    source,
    list: listFromEntries('spyware', entries),
    skipped,
  };
}

/** A domain the spyware check's indicators name, and what it indicates. */
export interface SpywareDomain {
  domain: string;
  /** The indicator set (bundle) it comes from. */
  source: string;
  /** The STIX indicator's id. */
  indicator: string;
  malware: readonly string[];
}

/**
 * Where the spyware category's domains come from when something keeps them up to date (the
 * spyware check's indicator store: the shipped bundles and those imported since). Without one,
 * the category holds the shipped bundles' domains.
 */
export interface SpywareDomainSource {
  spywareDomains(): SpywareDomain[];
  /** Called after every change of the domains; returns the function that stops listening. */
  onChange(listener: () => void): () => void;
}

/** The spyware category over the domains of `source`, as the resolver blocks them. */
export function spywareCategoryOf(domains: readonly SpywareDomain[]): Category {
  const entries = domains.map((d) => ({
    domain: d.domain,
    text: `${d.source} ${d.indicator} ${d.domain}`,
    ...(d.malware.length > 0 ? { label: d.malware.join(', ') } : {}),
  }));
  return spywareCategory(
    entries,
    [],
    `${AMNESTY_SOURCE}, and the indicator sets imported into the spyware check`,
  );
}

// --- STIX 2.1 domain indicators ---------------------------------------------------------------

/** A domain named by a STIX indicator. */
export interface StixDomain {
  domain: string;
  /** The indicator's id. */
  indicator: string;
  pattern: string;
  /** Names of the malware (or tool, campaign…) the indicator `indicates`. */
  malware: string[];
}

export type { StixSkipped };

export interface StixDomains {
  source: string;
  domains: StixDomain[];
  skipped: StixSkipped[];
}

/**
 * The domain indicators of a STIX 2.1 bundle, each with the malware it indicates.
 *
 * Reads `domain-name:value` and `url:value` comparisons (of a URL, its host) joined by OR or
 * listed with IN. An indicator that needs more than a name (AND, FOLLOWEDBY, a negation) is
 * skipped and reported: a name alone does not prove it. Throws a `validation_failed` error naming
 * the object when the bundle is malformed (the spyware check's reading of bundles).
 *
 * @example
 *   domainsFromStix(JSON.parse(text), 'pegasus.stix2').domains[0]
 *   // { domain: 'weather4free.com', indicator: 'indicator--05b7…', malware: ['Pegasus'], … }
 */
export function domainsFromStix(json: unknown, source: string): StixDomains {
  const domains: StixDomain[] = [];
  const skipped: StixSkipped[] = [];
  for (const { id, pattern, comparisons: all, needsMore: joined, malware } of readStixBundle(json, source)) {
    const comparisons = all.filter((c) => c.path === 'domain-name:value' || c.path === 'url:value');
    if (comparisons.length === 0) continue; // not about domains
    const needsMore = joined ?? (comparisons.some((c) => c.negated) ? 'NOT' : undefined);
    if (needsMore) {
      skipped.push({ source, indicator: id, reason: `needs more than a name (${needsMore})` });
      continue;
    }
    for (const comparison of comparisons) {
      if (comparison.operator !== '=' && comparison.operator !== 'IN') {
        skipped.push({
          source,
          indicator: id,
          reason: `${comparison.path} ${comparison.operator}: not an exact value`,
        });
        continue;
      }
      for (const value of comparison.values) {
        const host = comparison.path === 'url:value' ? hostOf(value) : value;
        const check =
          host === undefined ? { ok: false as const, reason: 'not a URL' } : normaliseDomain(host);
        if (check.ok) domains.push({ domain: check.domain, indicator: id, pattern, malware });
        else skipped.push({ source, indicator: id, value, reason: check.reason });
      }
    }
  }
  return { source, domains, skipped };
}

function hostOf(url: string): string | undefined {
  try {
    const host = new URL(url).hostname;
    return host === '' ? undefined : host.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}
