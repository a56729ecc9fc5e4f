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
import { z } from 'zod';
import { RempartError } from '@rempart/core';
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
  'Amnesty International, github.com/AmnestyTech/investigations, CC-BY (attribution kept in assets/netguard/spyware/SOURCE.md)';

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
  const spywareDir = join(assetsDir, 'spyware');
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
    {
      id: 'spyware',
      title: 'Spyware',
      description: `Domains of mercenary spyware (${[...new Set(entries.map((e) => e.label).filter(Boolean))].join(', ')}) from published investigations. A device asking for one is probably infected.`,
      source: AMNESTY_SOURCE,
      list: listFromEntries('spyware', entries),
      skipped,
    },
  ];
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

export interface StixSkipped {
  source: string;
  indicator: string;
  value?: string;
  reason: string;
}

export interface StixDomains {
  source: string;
  domains: StixDomain[];
  skipped: StixSkipped[];
}

// STIX 2.1 §3.1 and §4: every object has a type and an id; the properties read here are required
// by their object types. Other properties and object types pass untouched.
const StixObject = z.object({ type: z.string().min(1), id: z.string().min(1) });
const StixBundle = z.object({ type: z.literal('bundle'), objects: z.array(z.unknown()) });
const StixIndicator = z.object({ pattern: z.string().min(1), pattern_type: z.string().min(1).optional() });
const StixNamed = z.object({ name: z.string().min(1) });
const StixRelationship = z.object({
  relationship_type: z.string().min(1),
  source_ref: z.string().min(1),
  target_ref: z.string().min(1),
});
// Objects an indicator can point to with `indicates` and that carry a name (STIX 2.1 §4.7).
const NAMED_TARGETS = new Set([
  'malware',
  'tool',
  'campaign',
  'intrusion-set',
  'threat-actor',
  'attack-pattern',
]);

/**
 * The domain indicators of a STIX 2.1 bundle, each with the malware it indicates.
 *
 * Reads `domain-name:value` and `url:value` comparisons (of a URL, its host) joined by OR or
 * listed with IN. An indicator that needs more than a name (AND, FOLLOWEDBY, a negation) is
 * skipped and reported: a name alone does not prove it. Throws a `validation_failed` error naming
 * the object when the bundle is malformed.
 *
 * @example
 *   domainsFromStix(JSON.parse(text), 'pegasus.stix2').domains[0]
 *   // { domain: 'weather4free.com', indicator: 'indicator--05b7…', malware: ['Pegasus'], … }
 */
export function domainsFromStix(json: unknown, source: string): StixDomains {
  const bundle = StixBundle.safeParse(json);
  if (!bundle.success) throw stixError(source, 'the bundle', bundle.error);

  const names = new Map<string, string>();
  const indicators: { id: string; pattern: string }[] = [];
  const indicates = new Map<string, string[]>();
  bundle.data.objects.forEach((raw, index) => {
    const base = StixObject.safeParse(raw);
    if (!base.success) throw stixError(source, `object #${index}`, base.error);
    const { type, id } = base.data;
    if (type === 'indicator') {
      const indicator = StixIndicator.safeParse(raw);
      if (!indicator.success) throw stixError(source, id, indicator.error);
      // Only STIX patterns name domains this way; Sigma, YARA or Snort patterns are another matter.
      if ((indicator.data.pattern_type ?? 'stix') === 'stix') {
        indicators.push({ id, pattern: indicator.data.pattern });
      }
    } else if (NAMED_TARGETS.has(type)) {
      const named = StixNamed.safeParse(raw);
      if (!named.success) throw stixError(source, id, named.error);
      names.set(id, named.data.name);
    } else if (type === 'relationship') {
      const relationship = StixRelationship.safeParse(raw);
      if (!relationship.success) throw stixError(source, id, relationship.error);
      const r = relationship.data;
      if (r.relationship_type === 'indicates') {
        indicates.set(r.source_ref, [...(indicates.get(r.source_ref) ?? []), r.target_ref]);
      }
    }
  });

  const domains: StixDomain[] = [];
  const skipped: StixSkipped[] = [];
  for (const { id, pattern } of indicators) {
    const parsed = parsePattern(pattern);
    if (typeof parsed === 'string') {
      throw RempartError.validation(`${source}: ${id}: pattern ${JSON.stringify(pattern)}: ${parsed}`);
    }
    if (parsed.comparisons.length === 0) continue; // not about domains
    if (parsed.needsMore) {
      skipped.push({ source, indicator: id, reason: `needs more than a name (${parsed.needsMore})` });
      continue;
    }
    // A relationship may point outside the bundle (STIX 2.1 §3.6): such targets have no name here.
    const malware = [...new Set((indicates.get(id) ?? []).flatMap((ref) => names.get(ref) ?? []))];
    for (const comparison of parsed.comparisons) {
      if (comparison.problem) {
        skipped.push({ source, indicator: id, reason: comparison.problem });
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

function stixError(source: string, where: string, error: z.ZodError): RempartError {
  const issues = error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'value'}: ${i.message}`);
  return RempartError.validation(`${source}: ${where}: ${issues.join('; ')}`, { source, object: where });
}

function hostOf(url: string): string | undefined {
  try {
    const host = new URL(url).hostname;
    return host === '' ? undefined : host.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

interface Comparison {
  path: 'domain-name:value' | 'url:value';
  values: string[];
  /** Why the comparison names no exact value (LIKE, MATCHES, !=…). */
  problem?: string;
}

interface ParsedPattern {
  comparisons: Comparison[];
  /** The operator that makes a name alone insufficient, if any. */
  needsMore?: string;
}

type Token = { kind: 'string' | 'word' | 'punct'; value: string };

/**
 * Enough of the STIX patterning grammar (STIX 2.1 §9) to find domain comparisons and to tell a
 * malformed pattern from one about something else. Returns a message when malformed.
 */
function parsePattern(pattern: string): ParsedPattern | string {
  const tokens = tokenize(pattern);
  if (typeof tokens === 'string') return tokens;
  let depth = 0;
  for (const t of tokens) {
    if (t.kind !== 'punct') continue;
    if (t.value === '[' || t.value === '(') depth++;
    if (t.value === ']' || t.value === ')') depth--;
    if (depth < 0) return `unbalanced "${t.value}"`;
  }
  if (depth !== 0) return 'unbalanced brackets';
  if (tokens[0]?.value !== '[' && tokens[0]?.value !== '(') return 'a pattern starts with [';

  const result: ParsedPattern = { comparisons: [] };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind === 'word' && (t.value === 'AND' || t.value === 'FOLLOWEDBY')) result.needsMore ??= t.value;
    if (t.kind !== 'word' || (t.value !== 'domain-name:value' && t.value !== 'url:value')) continue;
    const path = t.value;
    let j = i + 1;
    const negated = tokens[j]?.value === 'NOT';
    if (negated) j++;
    const op = tokens[j];
    if (op === undefined) return `no operator after ${path}`;
    if (negated) {
      result.needsMore ??= 'NOT';
    } else if (op.value === '=' && tokens[j + 1]?.kind === 'string') {
      result.comparisons.push({ path, values: [(tokens[j + 1] as Token).value] });
    } else if (op.value === 'IN' && tokens[j + 1]?.value === '(') {
      const values: string[] = [];
      for (j += 2; tokens[j] && tokens[j]?.value !== ')'; j++) {
        const v = tokens[j] as Token;
        if (v.kind === 'string') values.push(v.value);
      }
      result.comparisons.push({ path, values });
    } else {
      result.comparisons.push({ path, values: [], problem: `${path} ${op.value}: not an exact value` });
    }
  }
  return result;
}

function tokenize(pattern: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  const readString = (): string | undefined => {
    // After the opening quote. STIX 2.1 §9.2: a quote or backslash inside is escaped by a backslash.
    let value = '';
    for (i++; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '\\') {
        value += pattern[++i] ?? '';
      } else if (c === "'") {
        i++;
        return value;
      } else {
        value += c;
      }
    }
    return undefined;
  };
  while (i < pattern.length) {
    const c = pattern[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      const value = readString();
      if (value === undefined) return 'unterminated string';
      tokens.push({ kind: 'string', value });
    } else if ('[]()'.includes(c) || c === ',') {
      tokens.push({ kind: 'punct', value: c });
      i++;
    } else if ('=!<>'.includes(c)) {
      const two = pattern.slice(i, i + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : c;
      if (op === '!') return 'unexpected "!"';
      tokens.push({ kind: 'punct', value: op });
      i += op.length;
    } else if (/[\w:.*-]/.test(c)) {
      // A keyword, a number, an object path (file:hashes.'SHA-256', x:refs[*].value), or a
      // typed literal (t'2021-01-01T00:00:00Z', h'ff', b'AQID').
      let word = '';
      while (i < pattern.length) {
        const d = pattern[i] ?? '';
        if (/[\w:.*-]/.test(d)) {
          word += d;
          i++;
        } else if (d === "'") {
          if (/^[thb]$/.test(word)) {
            const value = readString();
            if (value === undefined) return 'unterminated string';
            word = '';
            tokens.push({ kind: 'string', value });
            break;
          }
          const value = readString();
          if (value === undefined) return 'unterminated string';
          word += `'${value}'`;
        } else if (d === '[' && /^\[(\d+|\*)\]/.test(pattern.slice(i))) {
          const index = /^\[(\d+|\*)\]/.exec(pattern.slice(i))?.[0] ?? '';
          word += index;
          i += index.length;
        } else {
          break;
        }
      }
      if (word !== '') tokens.push({ kind: 'word', value: word });
    } else {
      return `unexpected character ${JSON.stringify(c)}`;
    }
  }
  return tokens;
}
