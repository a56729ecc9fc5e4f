/**
 * STIX 2.1 bundles of indicators of compromise, as Amnesty International, Citizen Lab and others
 * publish them for the Mobile Verification Toolkit (MVT): indicators whose patterns compare one
 * object property with a value, the malware they `indicate` through relationships, and MVT's
 * own object types (`app:id`, `app:cert.*`, `configuration-profile:id`, `android-property:name`).
 *
 * The shipped bundles live in `packages/server/assets/spyware/iocs/` (Amnesty International,
 * CC-BY: SOURCE.md there keeps the attribution).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RempartError, type Indicator, type IndicatorType } from '@rempart/core';
import { normaliseDomain } from '../netguard/lists.js';
import { parsePattern, type PatternComparison } from './stix-pattern.js';

/** An indicator, or one of its values, that could not become something to look for, and why. */
export interface StixSkipped {
  source: string;
  indicator: string;
  value?: string;
  reason: string;
}

/** A STIX indicator of the bundle: its pattern read, and the names of what it indicates. */
export interface StixIndicatorObject {
  id: string;
  pattern: string;
  comparisons: PatternComparison[];
  /** The operator that makes one comparison alone insufficient (AND, FOLLOWEDBY), if any. */
  needsMore?: string;
  malware: string[];
}

/** The indicators of one bundle. */
export interface IndicatorBundle {
  source: string;
  indicators: Indicator[];
  skipped: StixSkipped[];
  /** Every malware (or campaign, tool…) name of the bundle. */
  malware: string[];
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
 * The STIX-pattern indicators of a bundle, each with the names of what it indicates. Throws a
 * `validation_failed` error naming the bundle and the object when it is malformed.
 */
export function readStixBundle(json: unknown, source: string): StixIndicatorObject[] {
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
      // Only STIX patterns are read here; Sigma, YARA or Snort patterns are another matter.
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

  return indicators.map(({ id, pattern }) => {
    const parsed = parsePattern(pattern);
    if (typeof parsed === 'string') {
      throw RempartError.validation(`${source}: ${id}: pattern ${JSON.stringify(pattern)}: ${parsed}`, {
        source,
        object: id,
      });
    }
    // A relationship may point outside the bundle (STIX 2.1 §3.6): such targets have no name here.
    const malware = [...new Set((indicates.get(id) ?? []).flatMap((ref) => names.get(ref) ?? []))];
    return {
      id,
      pattern,
      comparisons: parsed.comparisons,
      ...(parsed.needsMore ? { needsMore: parsed.needsMore } : {}),
      malware,
    };
  });
}

/** What each object path of a comparison is, and how its value is normalised (undefined: refused). */
const PATHS: Record<string, (value: string) => { type: IndicatorType; value: string } | string> = {
  'domain-name:value': (value) => {
    // Bundles file addresses as domain names too (NoviSpy's): they are addresses all the same.
    const ip = address(value);
    if (ip) return ip;
    const check = normaliseDomain(value);
    return check.ok ? { type: 'domain', value: check.domain } : check.reason;
  },
  'ipv4-addr:value': (value) =>
    isIP(value) === 4
      ? { type: 'ipv4', value }
      : value.includes('/')
        ? 'an address range'
        : 'not an IPv4 address',
  'ipv6-addr:value': (value) =>
    address(value) ?? (value.includes('/') ? 'an address range' : 'not an IPv6 address'),
  'url:value': (value) => {
    const url = normaliseUrl(value);
    return url === undefined ? 'not a URL' : { type: 'url', value: url };
  },
  'email-addr:value': (value) =>
    /^[^\s@]+@[^\s@]+$/.test(value) ? { type: 'email', value: value.toLowerCase() } : 'not an e-mail address',
  'process:name': (value) => ({ type: 'process', value }),
  'file:name': (value) => ({ type: 'file-name', value }),
  'file:path': (value) => ({ type: 'file-path', value }),
  'app:id': (value) => ({ type: 'app-id', value }),
  'configuration-profile:id': (value) => ({ type: 'configuration-profile', value: value.toLowerCase() }),
  'android-property:name': (value) => ({ type: 'android-property', value }),
};
const HASHES: Record<string, { type: 'sha256' | 'sha1' | 'md5'; length: number }> = {
  sha256: { type: 'sha256', length: 64 },
  "'sha-256'": { type: 'sha256', length: 64 },
  sha1: { type: 'sha1', length: 40 },
  "'sha-1'": { type: 'sha1', length: 40 },
  md5: { type: 'md5', length: 32 },
  "'md5'": { type: 'md5', length: 32 },
};

/** The type and normalised value of `value` compared with `path`, or why it is refused. */
function indicatorValue(path: string, value: string): { type: IndicatorType; value: string } | string {
  const plain = PATHS[path];
  if (plain) return value.trim() === '' ? 'an empty value' : plain(value.trim());
  const hash = /^(file:hashes|app:cert)\.(.+)$/.exec(path);
  const algorithm = hash ? HASHES[hash[2]!.toLowerCase()] : undefined;
  if (hash && algorithm) {
    const hex = value.trim().toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${algorithm.length}}$`).test(hex)) return `not a ${algorithm.type} digest`;
    return hash[1] === 'app:cert' ? { type: 'app-cert', value: hex } : { type: algorithm.type, value: hex };
  }
  return `${path}: not a property Rempart looks for`;
}

/**
 * The indicators of a STIX 2.1 bundle: one per value compared with `=` or listed with `IN`.
 * An indicator that needs more than one value (AND, FOLLOWEDBY, a negation) or compares
 * otherwise (LIKE, MATCHES…) is skipped and reported, as is a value that is not what its property
 * holds: one value alone would not prove it. Throws a `validation_failed` error naming the object
 * when the bundle is malformed.
 *
 * @example
 *   indicatorsFromStix(JSON.parse(text), 'pegasus.stix2').indicators[0]
 *   // { type: 'domain', value: 'weather4free.com', indicatorId: 'indicator--05b7…', source: 'pegasus.stix2', malware: ['Pegasus'] }
 */
export function indicatorsFromStix(json: unknown, source: string): IndicatorBundle {
  const indicators: Indicator[] = [];
  const skipped: StixSkipped[] = [];
  const malware = new Set<string>();
  for (const object of readStixBundle(json, source)) {
    for (const name of object.malware) malware.add(name);
    const skip = (reason: string, value?: string) =>
      skipped.push({ source, indicator: object.id, ...(value === undefined ? {} : { value }), reason });
    if (object.needsMore) {
      skip(`needs more than one value (${object.needsMore})`);
      continue;
    }
    for (const comparison of object.comparisons) {
      if (comparison.negated) skip(`${comparison.path} NOT ${comparison.operator}: a negation`);
      else if (comparison.operator !== '=' && comparison.operator !== 'IN')
        skip(`${comparison.path} ${comparison.operator}: not an exact value`);
      else
        for (const raw of comparison.values) {
          const found = indicatorValue(comparison.path, raw);
          if (typeof found === 'string') skip(found, raw);
          else indicators.push({ ...found, indicatorId: object.id, source, malware: object.malware });
        }
    }
  }
  return { source, indicators, skipped, malware: [...malware].sort() };
}

/** A bundle's text read: `validation_failed` naming `source` when it is not JSON or not a bundle. */
export function parseStixText(text: string, source: string): IndicatorBundle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw RempartError.validation(`${source}: not JSON (${(error as Error).message})`, { source });
  }
  return indicatorsFromStix(json, source);
}

/** A bundle file, named by its file name. Throws `validation_failed` when it is unreadable or malformed. */
export function readIndicatorFile(path: string): IndicatorBundle {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw RempartError.validation(
      `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  return parseStixText(text, basename(path));
}

/** The folder of the shipped bundles: `packages/server/assets/spyware/iocs/`, from `src/` or `dist/`. */
export function shippedIndicatorsDir(): string {
  return fileURLToPath(new URL('../../assets/spyware/iocs/', import.meta.url));
}

/** The attribution the shipped bundles' licence asks for. */
export const SHIPPED_INDICATORS_SOURCE =
  'Amnesty International, github.com/AmnestyTech/investigations, CC-BY (attribution kept in assets/spyware/iocs/SOURCE.md)';

let shipped: IndicatorBundle[] | undefined;

/**
 * Every `.stix2` / `.json` bundle of `dir` (the shipped ones by default), in name order. The
 * shipped folder never changes while the process runs and is read once; any other is read anew.
 */
export function loadIndicatorFolder(dir?: string): IndicatorBundle[] {
  if (dir === undefined) return (shipped ??= readFolder(shippedIndicatorsDir()));
  return readFolder(dir);
}

function readFolder(dir: string): IndicatorBundle[] {
  return readdirSync(dir)
    .filter((file) => /\.(stix2|json)$/i.test(file))
    .sort()
    .map((file) => parseStixText(readFileSync(join(dir, file), 'utf8'), file));
}

function address(value: string): { type: 'ipv4' | 'ipv6'; value: string } | undefined {
  const bare = value.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return { type: 'ipv4', value: bare };
  if (family === 6) return { type: 'ipv6', value: new URL(`http://[${bare}]/`).hostname.slice(1, -1) };
  return undefined;
}

/**
 * A URL as compared: scheme and host in lower case (the host in its ASCII form), the default port
 * left out, the path, query and fragment as they are. Undefined when `value` is not an absolute URL.
 */
export function normaliseUrl(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    if (url.hostname === '') return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

function stixError(source: string, where: string, error: z.ZodError): RempartError {
  const issues = error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'value'}: ${i.message}`);
  return RempartError.validation(`${source}: ${where}: ${issues.join('; ')}`, { source, object: where });
}
