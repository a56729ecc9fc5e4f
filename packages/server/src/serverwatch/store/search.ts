/**
 * The search language of stored watch events, for the console and the CLI, parsed into a typed
 * query that the repository turns into SQL with parameters only.
 *
 * | term                    | matches                                                          |
 * |-------------------------|------------------------------------------------------------------|
 * | `word`, `"two words"`   | the raw line holds it (any case)                                 |
 * | `field:value`           | the normalised field equals it (any case): `user:alice`, `action:login`, `outcome:failure`, `cs-uri-stem:/owa/auth.owa` |
 * | `*` in a value          | any run of characters: `user:adm*`, `cs-uri-stem:*ecp*`          |
 * | `src_ip:203.0.113.5`    | the client address (IPv4 or IPv6, any spelling of it)            |
 * | `src_ip:203.0.113.0/24` | a client address in the range (CIDR)                             |
 * | `format:dovecot`        | the parser that read the line (`raw`: none did)                  |
 * | `source:syslog-udp`, `host:mx1` | the receiver, the sending host                           |
 * | `product:`, `service:`, `category:` | the event's Sigma log source                         |
 * | `parsed:false`          | lines no parser understood                                       |
 * | `-term`                 | the events the term does not match                               |
 *
 * Terms are separated by spaces and must all match. In a value, `\` makes the next character
 * plain (`\*` a star, `\"` a quote, `\\` a backslash). Bad input is refused with a validation
 * error whose `details` carry a stable `reason` and the `position` (0-based) it was found at.
 *
 * @example
 *   parseSearch('src_ip:203.0.113.0/24 -outcome:success "password mismatch"')
 *   // { terms: [ { kind: 'address', negated: false, address: '203.0.113.0', prefix: 24 },
 *   //            { kind: 'field', negated: true, field: 'outcome', pattern: ['success'] },
 *   //            { kind: 'text', negated: false, pattern: ['password mismatch'] } ] }
 */
import { isIP } from 'node:net';
import { RempartError, watchEventFormats, type WatchEventFormat } from '@rempart/core';

/**
 * A value with wildcards: the literal pieces between the stars (`adm*n` is `['adm', 'n']`, `*x`
 * is `['', 'x']`); one piece means no wildcard at all.
 */
export type Pattern = readonly string[];

export type LogSourceKey = 'product' | 'service' | 'category';

export type SearchTerm = { negated: boolean } & (
  | { kind: 'text'; pattern: Pattern }
  | { kind: 'field'; field: string; pattern: Pattern }
  | { kind: 'column'; column: 'source' | 'host'; pattern: Pattern }
  | { kind: 'logsource'; key: LogSourceKey; pattern: Pattern }
  | { kind: 'format'; format: WatchEventFormat }
  | { kind: 'parsed'; parsed: boolean }
  /** `src_ip` as an address (`prefix` undefined) or a CIDR range. */
  | { kind: 'address'; address: string; prefix: number | undefined }
);

export interface SearchQuery {
  terms: SearchTerm[];
}

export const SEARCH_MAX_LENGTH = 1000;
export const SEARCH_MAX_TERMS = 50;
/** The longest field name, in characters. */
const FIELD_MAX_LENGTH = 128;

/** Why a search was refused: stable, for clients to tell them apart. */
export type SearchErrorReason =
  | 'query_too_long'
  | 'too_many_terms'
  | 'lone_minus'
  | 'missing_value'
  | 'unterminated_quote'
  | 'text_after_quote'
  | 'unexpected_quote'
  | 'dangling_escape'
  | 'field_too_long'
  | 'unknown_format'
  | 'invalid_boolean'
  | 'invalid_cidr';

function refuse(reason: SearchErrorReason, position: number, message: string): RempartError {
  return RempartError.validation(`Search: ${message} (at character ${position + 1}).`, {
    reason,
    position,
  });
}

const FIELD = /[A-Za-z_][A-Za-z0-9_.-]*:/y;
const SPACE = /\s/;
const LOGSOURCE_KEYS: ReadonlySet<string> = new Set<LogSourceKey>(['product', 'service', 'category']);

/**
 * The query of `text`; throws RempartError (`validation_failed`, details `{ reason, position }`)
 * for anything else. An empty text is the query matching every event.
 */
export function parseSearch(text: string): SearchQuery {
  if (text.length > SEARCH_MAX_LENGTH)
    throw refuse(
      'query_too_long',
      SEARCH_MAX_LENGTH,
      `a search holds at most ${SEARCH_MAX_LENGTH} characters`,
    );
  const terms: SearchTerm[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && SPACE.test(text[i]!)) i++;
    if (i >= n) break;
    const start = i;
    if (terms.length === SEARCH_MAX_TERMS)
      throw refuse('too_many_terms', start, `a search holds at most ${SEARCH_MAX_TERMS} terms`);
    let negated = false;
    if (text[i] === '-') {
      negated = true;
      i++;
      if (i >= n || SPACE.test(text[i]!))
        throw refuse('lone_minus', start, 'a minus must be followed by a term');
    }
    FIELD.lastIndex = i;
    const field = FIELD.exec(text)?.[0].slice(0, -1);
    if (field !== undefined) {
      if (field.length > FIELD_MAX_LENGTH)
        throw refuse('field_too_long', i, `a field name holds at most ${FIELD_MAX_LENGTH} characters`);
      i += field.length + 1;
      if (i >= n || SPACE.test(text[i]!)) throw refuse('missing_value', i, `${field}: needs a value`);
    }
    const valueAt = i;
    const value = readValue(text, i);
    i = value.end;
    terms.push(
      field === undefined
        ? { kind: 'text', negated, pattern: value.pattern }
        : fieldTerm(field, value.pattern, negated, valueAt),
    );
  }
  return { terms };
}

/** A value from `start`: quoted, or up to the next space; split at its unescaped stars. */
function readValue(text: string, start: number): { pattern: string[]; end: number } {
  const pieces: string[] = [];
  let piece = '';
  let i = start;
  const n = text.length;
  const quoted = text[i] === '"';
  if (quoted) i++;
  for (;;) {
    if (i >= n) {
      if (quoted) throw refuse('unterminated_quote', start, 'a quote is not closed');
      break;
    }
    const c = text[i]!;
    if (quoted && c === '"') {
      i++;
      if (i < n && !SPACE.test(text[i]!))
        throw refuse('text_after_quote', i, 'a closing quote must be followed by a space');
      break;
    }
    if (!quoted && SPACE.test(c)) break;
    if (!quoted && c === '"') throw refuse('unexpected_quote', i, 'a quote may only start a value');
    if (c === '\\') {
      if (i + 1 >= n) throw refuse('dangling_escape', i, 'a backslash must be followed by a character');
      piece += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '*') {
      pieces.push(piece);
      piece = '';
    } else {
      piece += c;
    }
    i++;
  }
  pieces.push(piece);
  return { pattern: pieces, end: i };
}

function fieldTerm(field: string, pattern: string[], negated: boolean, at: number): SearchTerm {
  const exact = pattern.length === 1 ? pattern[0]! : undefined;
  switch (field) {
    case 'format': {
      const format = watchEventFormats.find((f) => f === exact?.toLowerCase());
      if (format === undefined)
        throw refuse('unknown_format', at, `format: is one of ${watchEventFormats.join(', ')}`);
      return { kind: 'format', negated, format };
    }
    case 'parsed': {
      const word = exact?.toLowerCase();
      if (word !== 'true' && word !== 'false')
        throw refuse('invalid_boolean', at, 'parsed: is true or false');
      return { kind: 'parsed', negated, parsed: word === 'true' };
    }
    case 'source':
    case 'host':
      return { kind: 'column', negated, column: field, pattern };
    case 'src_ip': {
      if (exact === undefined) break;
      const slash = exact.indexOf('/');
      if (slash < 0) {
        if (isAddress(exact)) return { kind: 'address', negated, address: exact, prefix: undefined };
        break;
      }
      const address = exact.slice(0, slash);
      const bits = exact.slice(slash + 1);
      const version = isAddress(address) ? isIP(address) : 0;
      const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
      if (version === 0 || !(prefix <= (version === 4 ? 32 : 128)))
        throw refuse('invalid_cidr', at, 'src_ip: takes an address or a range such as 203.0.113.0/24');
      return { kind: 'address', negated, address, prefix };
    }
    default:
      if (LOGSOURCE_KEYS.has(field))
        return { kind: 'logsource', negated, key: field as LogSourceKey, pattern };
  }
  return { kind: 'field', negated, field, pattern };
}

/**
 * An IP address as both Node and PostgreSQL's `inet` read it: Node also takes an IPv6 zone
 * (`fe80::1%eth0`), which `inet` refuses.
 */
export function isAddress(text: string): boolean {
  return isIP(text) !== 0 && !text.includes('%');
}

/**
 * The text of a query, which `parseSearch` reads back as the same query: the CLI shows it, and
 * the tests build random queries with it.
 */
export function formatSearch(query: SearchQuery): string {
  return query.terms.map(formatTerm).join(' ');
}

function formatTerm(term: SearchTerm): string {
  const minus = term.negated ? '-' : '';
  switch (term.kind) {
    case 'text':
      return `${minus}${quote(term.pattern)}`;
    case 'field':
      return `${minus}${term.field}:${quote(term.pattern)}`;
    case 'column':
      return `${minus}${term.column}:${quote(term.pattern)}`;
    case 'logsource':
      return `${minus}${term.key}:${quote(term.pattern)}`;
    case 'format':
      return `${minus}format:${term.format}`;
    case 'parsed':
      return `${minus}parsed:${term.parsed}`;
    case 'address':
      return `${minus}src_ip:${term.address}${term.prefix === undefined ? '' : `/${term.prefix}`}`;
  }
}

function quote(pattern: Pattern): string {
  return `"${pattern.map((piece) => piece.replace(/[\\"*]/g, (c) => `\\${c}`)).join('*')}"`;
}
