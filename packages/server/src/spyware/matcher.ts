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
/** HOST_IN_TEXT at one offset only (sticky). */
const HOST_AT = new RegExp(HOST_IN_TEXT.source, 'iy');
const IPV4_IN_TEXT =
  /(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\d.])/g;
const EMAIL_IN_TEXT = /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/gi;
/**
 * What every match of the four patterns above holds: `://` (URL_IN_TEXT), or a dot before a letter
 * or digit (the last label of a host name or an e-mail address, the digits of an address). Same
 * flags, so that "a letter" means the same here as there: ASCII letters of either case.
 */
const MAY_NAME = /:\/\/|\.[a-z0-9]/i;
/** Where a URL found in text ends, before the punctuation of the sentence around it. */
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;
/** The longest scheme URL_IN_TEXT takes: a letter and 1 to 15 more characters. */
const LONGEST_SCHEME = 16;

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
  /** The domain table, looked up for every name found in text. */
  private readonly domains: Map<string, Indicator> | undefined;
  private readonly hasIpv4: boolean;
  private readonly hasEmail: boolean;
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
    this.domains = this.tables.get('domain');
    this.hasIpv4 = this.tables.has('ipv4');
    this.hasEmail = this.tables.has('email');
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
    return this.nameOrAbove(host);
  }

  /** `host` (lower-case, no trailing dot, not an address), or any name above it, as an indicator. */
  private nameOrAbove(host: string): Detection | undefined {
    const table = this.domains;
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
    // Parsing a URL is most of the cost of matching a plain web link; the host of one is read
    // straight from the text when that is provably the host the parser would give.
    const host = plainWebHost(url);
    if (host === undefined || this.urls.has(host)) return this.urlWithoutShortcuts(url);
    const byHost = this.nameOrAbove(host);
    return byHost ? { ...byHost, matched: url } : undefined;
  }

  /**
   * What `url` finds, always through the URL parser. Slower, and the same by construction; the
   * tests hold the two to that.
   */
  urlWithoutShortcuts(url: string): Detection | undefined {
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

  /**
   * Whether the UTF-8 text at `start`…`end` of `bytes` may name anything `text` finds: when false,
   * `text` of it finds nothing, and it need not be decoded (most messages of a phone). The marks
   * `text` looks for first (`://`, a dot before an ASCII letter or digit) are ASCII, and in UTF-8
   * an ASCII character is its own byte, which no other character's bytes hold, and which a decoder
   * replacing a malformed sequence keeps: the bytes hold a mark exactly when the text does.
   */
  static utf8MayName(this: void, bytes: Uint8Array, start: number, end: number): boolean {
    for (let i = start; i < end - 1; i++) {
      const b = bytes[i]!;
      if (b === 0x2e) {
        const next = bytes[i + 1]!;
        if (isAsciiLetter(next) || isDigit(next)) return true;
      } else if (b === 0x3a && i + 2 < end && bytes[i + 1] === 0x2f && bytes[i + 2] === 0x2f) return true;
    }
    return false;
  }

  /** Every URL, host name, address and e-mail address in `text` that an indicator names. */
  text(text: string): Detection[] {
    // Most messages are chats that name nothing: one scan for the two marks every name needs
    // spares them the four searches (and costs less than the walk below).
    if (!MAY_NAME.test(text)) return [];
    // One walk over the dots tells which searches can find anything, and where the first match
    // can start at the earliest: a search that finds nothing still tries every position, and
    // EMAIL_IN_TEXT at each one walks a whole word.
    const scheme = text.indexOf('://');
    let hostDot = -1;
    let digitDots = 0;
    for (let dot = text.indexOf('.'); dot !== -1; dot = text.indexOf('.', dot + 1)) {
      const next = text.charCodeAt(dot + 1);
      if (isAsciiLetter(next)) {
        if (hostDot === -1) hostDot = dot;
      } else if (isDigit(next) && isDigit(text.charCodeAt(dot - 1))) digitDots++;
    }
    // Allocated at the first hit: most texts that get this far still name nothing.
    let found: Findings | undefined;
    // Every URL_IN_TEXT match holds `://` after a scheme of at most 16 characters.
    if (scheme !== -1) {
      URL_IN_TEXT.lastIndex = Math.max(0, scheme - LONGEST_SCHEME);
      for (let m = URL_IN_TEXT.exec(text); m; m = URL_IN_TEXT.exec(text)) {
        const link = m[0];
        const hit = this.url(
          isPunctuation(link.charCodeAt(link.length - 1)) ? link.replace(TRAILING_PUNCTUATION, '') : link,
        );
        if (hit) (found ??= new Findings()).add(hit);
      }
    }
    // A HOST_IN_TEXT match is made of ASCII letters, digits, dots and hyphens, holds a dot before a
    // letter (that of its last label), and cannot start right after one of those characters (its
    // lookbehind): it starts where a run of them starts, one at most in each run. So the pattern is
    // tried only at the start of each run that holds such a dot, and nowhere else.
    if (this.domains && hostDot !== -1) {
      let searched = 0;
      for (let dot = hostDot; dot !== -1; dot = text.indexOf('.', dot + 1)) {
        if (dot < searched || !isAsciiLetter(text.charCodeAt(dot + 1))) continue;
        HOST_AT.lastIndex = runStart(text, dot, searched);
        const m = HOST_AT.exec(text);
        searched = runEnd(text, dot);
        const hit = m ? this.nameInText(m[0]) : undefined;
        if (hit) (found ??= new Findings()).add(hit);
      }
    }
    // An IPV4_IN_TEXT match holds three dots, each between two digits.
    if (this.hasIpv4 && digitDots >= 3) {
      IPV4_IN_TEXT.lastIndex = 0;
      for (let m = IPV4_IN_TEXT.exec(text); m; m = IPV4_IN_TEXT.exec(text)) {
        const hit = this.ip(m[0]);
        if (hit) (found ??= new Findings()).add(hit);
      }
    }
    if (this.hasEmail && text.includes('@')) {
      EMAIL_IN_TEXT.lastIndex = 0;
      for (let m = EMAIL_IN_TEXT.exec(text); m; m = EMAIL_IN_TEXT.exec(text)) {
        const hit = this.email(m[0]);
        if (hit) (found ??= new Findings()).add(hit);
      }
    }
    return found?.list ?? [];
  }

  /**
   * What `text` finds, without its shortcuts: every search run on every text from its start, and
   * every URL parsed. Slower, and the same by construction; the tests hold the two to that.
   */
  textWithoutShortcuts(text: string): Detection[] {
    const found: Detection[] = [];
    const seen = new Set<string>();
    const add = (hit: Detection | undefined) => {
      if (hit && !seen.has(`${hit.indicatorId}\u0000${hit.matched}`)) {
        seen.add(`${hit.indicatorId}\u0000${hit.matched}`);
        found.push(hit);
      }
    };
    for (const m of text.matchAll(URL_IN_TEXT))
      add(this.urlWithoutShortcuts(m[0].replace(TRAILING_PUNCTUATION, '')));
    if (this.tables.has('domain')) for (const m of text.matchAll(HOST_IN_TEXT)) add(this.domain(m[0]));
    if (this.tables.has('ipv4')) for (const m of text.matchAll(IPV4_IN_TEXT)) add(this.ip(m[0]));
    if (this.tables.has('email')) for (const m of text.matchAll(EMAIL_IN_TEXT)) add(this.email(m[0]));
    return found;
  }

  /**
   * `domain` of a HOST_IN_TEXT match: ASCII letters, digits, hyphens and dots, with no space or
   * dot at either end, and a last label that starts with a letter, so never an address.
   */
  private nameInText(name: string): Detection | undefined {
    return this.nameOrAbove(hasUpperCase(name) ? name.toLowerCase() : name);
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

/** The detections of one text, in the order found, each indicator matched by the same text once. */
class Findings {
  readonly list: Detection[] = [];
  private readonly seen = new Set<string>();

  add(hit: Detection): void {
    const key = `${hit.indicatorId}\u0000${hit.matched}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(hit);
  }
}

/**
 * Whether `isIP` could say yes: an IPv4 address is digits and dots, an IPv6 one holds a colon
 * (either maybe in brackets). A host name with a letter in it is spared the check.
 */
export function mayBeAddress(host: string): boolean {
  return host.includes(':') || /^[\d.[\]]*$/.test(host);
}

/**
 * The host name of an http or https URL, read without parsing when the authority is plain
 * (RFC 3986 §3.2; the WHATWG URL Standard's host parsing): letters, digits and hyphens in
 * non-empty labels between single dots, then `/`, `?`, `#` or the end. The URL parser gives such
 * a host lower-cased and nothing else changes it: no userinfo (`@`), port (`:`), percent-escape,
 * backslash, space, tab or newline (which the parser drops before it parses) and no non-ASCII
 * character can be in it, and no `xn--` label (which the parser decodes and may refuse). A last
 * label starting with a digit could be a number (the Standard's "ends in a number" makes the
 * host an IPv4 address, or fails): those go to the parser too. Undefined for anything else.
 */
export function plainWebHost(url: string): string | undefined {
  // "http" or "https" in any case, then "://" (`| 0x20` lower-cases an ASCII letter).
  if ((url.charCodeAt(0) | 0x20) !== 0x68 || (url.charCodeAt(1) | 0x20) !== 0x74) return undefined;
  if ((url.charCodeAt(2) | 0x20) !== 0x74 || (url.charCodeAt(3) | 0x20) !== 0x70) return undefined;
  let at = (url.charCodeAt(4) | 0x20) === 0x73 ? 5 : 4;
  if (url.charCodeAt(at) !== 0x3a || url.charCodeAt(at + 1) !== 0x2f || url.charCodeAt(at + 2) !== 0x2f)
    return undefined;
  const start = (at += 3);
  let label = at;
  let upper = false;
  for (; at < url.length; at++) {
    const c = url.charCodeAt(at);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // / ? #
    if (c === 0x2e) {
      if (at === label || isPunycode(url, label)) return undefined;
      label = at + 1;
    } else if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (!(isAsciiLetter(c) || isDigit(c) || c === 0x2d)) return undefined;
  }
  if (at === label || !isAsciiLetter(url.charCodeAt(label)) || isPunycode(url, label)) return undefined;
  const host = url.slice(start, at);
  return upper ? host.toLowerCase() : host;
}

/** Whether the label at `at` starts with the ACE prefix `xn--` (RFC 5890 §2.3.2.1), in any case. */
function isPunycode(host: string, at: number): boolean {
  return (
    (host.charCodeAt(at) | 0x20) === 0x78 &&
    (host.charCodeAt(at + 1) | 0x20) === 0x6e &&
    host.charCodeAt(at + 2) === 0x2d &&
    host.charCodeAt(at + 3) === 0x2d
  );
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The characters TRAILING_PUNCTUATION takes off a URL: . , ; : ! ? */
function isPunctuation(c: number): boolean {
  return c === 0x2e || c === 0x2c || c === 0x3b || c === 0x3a || c === 0x21 || c === 0x3f;
}

function hasUpperCase(ascii: string): boolean {
  for (let i = 0; i < ascii.length; i++) {
    const c = ascii.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

/** Whether `c` can be part of a host name in text: an ASCII letter or digit, a dot, a hyphen. */
function isNameChar(c: number): boolean {
  return isAsciiLetter(c) || isDigit(c) || c === 0x2e || c === 0x2d;
}

/**
 * Where the run of name characters around `at` starts, looking no further back than `floor`
 * (where a run already searched ends, or 0).
 */
function runStart(text: string, at: number, floor: number): number {
  let start = at;
  while (start > floor && isNameChar(text.charCodeAt(start - 1))) start--;
  return start;
}

/** Where the run of name characters around `at` ends. */
function runEnd(text: string, at: number): number {
  let end = at;
  while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
  return end;
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
