/**
 * Indicators compiled once for matching: a hash table per kind of value, domains walked from the
 * name up to its registrable parts (a name matches when it or any name above it is an indicator),
 * URLs matched by their host and by prefix, names and addresses extracted from free text. Every
 * lookup costs a few hash probes whatever the number of indicators, so that a fleet's scans and the
 * DNS query log can be matched against every published bundle at once.
 */
import { isIP } from 'node:net';
import type { Detection, Indicator, IndicatorType } from '@rempart/core';
import type { IndicatorBundle } from './stix.js';

/** URLs (with a scheme) and bare host names, as they appear in messages, histories and logs. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s"'<>()[\]{}|\\^`]+/gi;
const HOST_IN_TEXT =
  /(?<![\w.@-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:xn--[a-z0-9-]{2,59}|[a-z]{2,63})(?![\w@-]|\.[a-z0-9])/gi;
const IPV4_IN_TEXT =
  /(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\d.])/g;
const EMAIL_IN_TEXT = /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/gi;
/**
 * What every match of the four patterns above holds: `://` (URL_IN_TEXT), or a dot before a letter
 * or digit (the last label of a host name or an e-mail address, the digits of an address). Same
 * flags, so that "a letter" means the same here as there: ASCII letters of either case.
 */
const MAY_NAME = /:\/\/|\.[a-z0-9]/i;

/** iOS cuts process names in some records (DataUsage, shutdown logs) to this many characters. */
const TRUNCATED_PROCESS = [15, 16];

export class IndicatorMatcher {
  private readonly tables = new Map<IndicatorType, Map<string, Indicator>>();
  /** URL indicators, for a prefix match: by host. */
  private readonly urls = new Map<string, Indicator[]>();
  /** Process indicators by their first 15 characters, for names iOS cut short. */
  private readonly processPrefixes = new Map<string, Indicator>();
  /** Folder indicators (a path ending with /): a file below one matches. */
  private readonly folders: Indicator[] = [];
  readonly count: number;
  readonly sources: string[];

  constructor(indicators: readonly Indicator[], sources: readonly string[] = []) {
    for (const indicator of indicators) {
      let table = this.tables.get(indicator.type);
      if (!table) this.tables.set(indicator.type, (table = new Map<string, Indicator>()));
      // The first of duplicate indicators wins; bundles repeat each other's well-known domains.
      if (!table.has(indicator.value)) table.set(indicator.value, indicator);
      if (indicator.type === 'url') {
        const host = hostOf(indicator.value);
        if (host !== undefined) this.urls.set(host, [...(this.urls.get(host) ?? []), indicator]);
      }
      if (indicator.type === 'process' && indicator.value.length > TRUNCATED_PROCESS[0]!) {
        const prefix = indicator.value.slice(0, TRUNCATED_PROCESS[0]);
        if (!this.processPrefixes.has(prefix)) this.processPrefixes.set(prefix, indicator);
      }
      if (indicator.type === 'file-path' && indicator.value.endsWith('/')) this.folders.push(indicator);
    }
    this.count = indicators.length;
    this.sources = [...new Set([...sources, ...indicators.map((i) => i.source)])].sort();
  }

  /** The indicators of every bundle. */
  static from(bundles: readonly IndicatorBundle[]): IndicatorMatcher {
    return new IndicatorMatcher(
      bundles.flatMap((b) => b.indicators),
      bundles.map((b) => b.source),
    );
  }

  /** Indicators of each type. */
  counts(): Partial<Record<IndicatorType, number>> {
    return Object.fromEntries([...this.tables].map(([type, table]) => [type, table.size]));
  }

  private exact(type: IndicatorType, value: string, matched = value): Detection | undefined {
    const indicator = this.tables.get(type)?.get(value);
    return indicator ? detection(indicator, matched) : undefined;
  }

  /** A host name (or an address written as one): it, or any name above it, is an indicator. */
  domain(name: string): Detection | undefined {
    const host = name.trim().replace(/\.$/, '').toLowerCase();
    if (host === '') return undefined;
    if (mayBeAddress(host) && isIP(host.replace(/^\[|\]$/g, ''))) return this.ip(host);
    const table = this.tables.get('domain');
    if (!table) return undefined;
    for (let at = 0; at !== -1; at = nextLabel(host, at)) {
      const indicator = table.get(at === 0 ? host : host.slice(at));
      if (indicator) return detection(indicator, host);
    }
    return undefined;
  }

  /** An IPv4 or IPv6 address. */
  ip(address: string): Detection | undefined {
    const bare = address.trim().replace(/^\[|\]$/g, '');
    const family = isIP(bare);
    if (family === 4) return this.exact('ipv4', bare, address);
    if (family === 6) return this.exact('ipv6', new URL(`http://[${bare}]/`).hostname.slice(1, -1), address);
    return undefined;
  }

  /** A URL: an indicator URL it starts with, or its host. */
  url(url: string): Detection | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url.trim());
    } catch {
      return undefined;
    }
    for (const indicator of this.urls.get(parsed.hostname) ?? [])
      if (parsed.href.startsWith(indicator.value)) return detection(indicator, url);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (host === '') return undefined;
    const byHost = this.domain(host);
    return byHost ? { ...byHost, matched: url } : undefined;
  }

  /** Every URL, host name, address and e-mail address in `text` that an indicator names. */
  text(text: string): Detection[] {
    // Most messages are chats that name nothing: one scan for the two marks every name needs
    // spares them the four searches.
    if (!MAY_NAME.test(text)) return [];
    return this.search(text, true);
  }

  /**
   * What `text` finds, without its shortcuts: every search run on every text. Slower, and the
   * same by construction; the tests hold the two to that.
   */
  textWithoutShortcuts(text: string): Detection[] {
    return this.search(text, false);
  }

  private search(text: string, shortcuts: boolean): Detection[] {
    const found: Detection[] = [];
    const seen = new Set<string>();
    const add = (hit: Detection | undefined) => {
      if (hit && !seen.has(`${hit.indicatorId}\u0000${hit.matched}`)) {
        seen.add(`${hit.indicatorId}\u0000${hit.matched}`);
        found.push(hit);
      }
    };
    // A search runs only when the text holds what its matches need (`://`, `@`): a search that
    // finds nothing still tries every position, and EMAIL_IN_TEXT at each one walks a whole word.
    if (!shortcuts || text.includes('://'))
      for (const m of text.matchAll(URL_IN_TEXT)) add(this.url(m[0].replace(/[.,;:!?]+$/, '')));
    if (this.tables.has('domain')) for (const m of text.matchAll(HOST_IN_TEXT)) add(this.domain(m[0]));
    if (this.tables.has('ipv4')) for (const m of text.matchAll(IPV4_IN_TEXT)) add(this.ip(m[0]));
    if (this.tables.has('email') && (!shortcuts || text.includes('@')))
      for (const m of text.matchAll(EMAIL_IN_TEXT)) add(this.email(m[0]));
    return found;
  }

  email(address: string): Detection | undefined {
    return this.exact('email', address.trim().toLowerCase(), address);
  }

  /** A process name, also when the record cut it to 15 or 16 characters. */
  process(name: string): Detection | undefined {
    const exact = this.exact('process', name);
    if (exact || !TRUNCATED_PROCESS.includes(name.length)) return exact;
    const indicator = this.processPrefixes.get(name.slice(0, TRUNCATED_PROCESS[0]));
    return indicator?.value.startsWith(name) ? detection(indicator, name) : undefined;
  }

  /** A file's path: the path itself, a folder indicator it lies under, or its name. */
  filePath(path: string): Detection | undefined {
    const exact = this.exact('file-path', path);
    if (exact) return exact;
    for (const folder of this.folders) if (path.startsWith(folder.value)) return detection(folder, path);
    const name = path.slice(path.lastIndexOf('/') + 1);
    const byName = name === '' ? undefined : this.fileName(name);
    return byName ? { ...byName, matched: path } : undefined;
  }

  fileName(name: string): Detection | undefined {
    return this.exact('file-name', name);
  }

  /** A SHA-256, SHA-1 or MD5 digest, told apart by length. */
  hash(hex: string): Detection | undefined {
    const value = hex.trim().toLowerCase();
    const type =
      value.length === 64 ? 'sha256' : value.length === 40 ? 'sha1' : value.length === 32 ? 'md5' : undefined;
    return type ? this.exact(type, value, hex) : undefined;
  }

  appId(id: string): Detection | undefined {
    return this.exact('app-id', id.trim());
  }

  /** A digest of an app's signing certificate. */
  appCert(hex: string): Detection | undefined {
    return this.exact('app-cert', hex.trim().toLowerCase().replaceAll(':', ''), hex);
  }

  configurationProfile(uuid: string): Detection | undefined {
    return this.exact('configuration-profile', uuid.trim().toLowerCase(), uuid);
  }

  androidProperty(name: string): Detection | undefined {
    return this.exact('android-property', name.trim());
  }
}

/**
 * Whether `isIP` could say yes: an IPv4 address is digits and dots, an IPv6 one holds a colon
 * (either maybe in brackets). A host name with a letter in it is spared the check.
 */
export function mayBeAddress(host: string): boolean {
  return host.includes(':') || /^[\d.[\]]*$/.test(host);
}

/** The offset of the label after the one at `at`, or -1 at the last one. */
function nextLabel(host: string, at: number): number {
  const dot = host.indexOf('.', at);
  return dot === -1 ? -1 : dot + 1;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function detection(indicator: Indicator, matched: string): Detection {
  return {
    type: indicator.type,
    indicator: indicator.value,
    indicatorId: indicator.indicatorId,
    source: indicator.source,
    malware: indicator.malware,
    matched,
  };
}
