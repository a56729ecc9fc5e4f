/**
 * A small writer for XML property lists, the format of Apple configuration profiles
 * (`.mobileconfig`). It writes the elements of Apple's DTD
 * (http://www.apple.com/DTDs/PropertyList-1.0.dtd): `dict`, `array`, `string`, `integer`, `real`,
 * `true`/`false`, `date` and `data`, and nothing else: a plist has no null.
 *
 * Every value it cannot write exactly is refused with an error naming where it sits, rather than
 * written approximately: a profile that an MDM or the device reads differently from what Rempart
 * meant is worse than no profile.
 *
 * @example
 *   toPlistXml({ PayloadType: 'Configuration', PayloadVersion: 1, PayloadRemovalDisallowed: true });
 *   // → '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist …>\n<plist version="1.0">\n<dict>\n\t<key>PayloadType</key>…'
 */
import { RempartError } from '@rempart/core';

/** A `<real>`, for a whole number that has to be written as a real (`real(2)` → `<real>2</real>`). */
export class PlistReal {
  constructor(readonly value: number) {}
}

/** Marks a number as a `<real>`; other numbers are `<integer>` when whole and `<real>` otherwise. */
export const real = (value: number): PlistReal => new PlistReal(value);

/**
 * A dictionary. Entries whose value is `undefined` are left out (like `JSON.stringify`), so that
 * optional keys can be written inline. Keys come out in the object's own order; a `Map` keeps
 * keys that look like array indices in place too (a plain object moves them first).
 */
export type PlistDict =
  { readonly [key: string]: PlistValue | undefined } | ReadonlyMap<string, PlistValue | undefined>;

export type PlistValue =
  string | number | bigint | boolean | Date | Uint8Array | PlistReal | readonly PlistValue[] | PlistDict;

const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

// Nothing Rempart writes comes near this; it only turns a runaway structure into a clear error.
const MAX_DEPTH = 256;

// CFPropertyList reads and writes 64-bit integers, signed, and unsigned above 2^63 - 1.
const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 64n - 1n;

/** Writes `value` as a complete XML property list document (UTF-8 text, tab-indented like Apple's). */
export function toPlistXml(value: PlistValue): string {
  const out: string[] = [HEADER];
  write(value, 0, '', out, new Set());
  out.push('</plist>\n');
  return out.join('');
}

function write(value: unknown, depth: number, path: string, out: string[], open: Set<object>): void {
  const indent = '\t'.repeat(depth);
  const where = path === '' ? 'the root value' : path;
  if (value === undefined || value === null) {
    fail(`${where} is ${String(value)}, and a property list has no null`, path);
  }
  switch (typeof value) {
    case 'string':
      out.push(`${indent}<string>${escapeText(value, path)}</string>\n`);
      return;
    case 'boolean':
      out.push(`${indent}${value ? '<true/>' : '<false/>'}\n`);
      return;
    case 'bigint':
      if (value < INT_MIN || value > INT_MAX) fail(`${where} (${value}) does not fit in 64 bits`, path);
      out.push(`${indent}<integer>${value}</integer>\n`);
      return;
    case 'number':
      if (Number.isInteger(value)) {
        if (!Number.isSafeInteger(value)) {
          fail(`${where} (${value}) is past 2^53 and may not be exact: pass it as a bigint`, path);
        }
        out.push(`${indent}<integer>${value}</integer>\n`);
      } else {
        out.push(`${indent}<real>${realText(value, path)}</real>\n`);
      }
      return;
    case 'object':
      break;
    case 'undefined':
    case 'function':
    case 'symbol':
      fail(`${where} is a ${typeof value}, which a property list cannot hold`, path);
  }

  if (value instanceof PlistReal) {
    out.push(`${indent}<real>${realText(value.value, path)}</real>\n`);
    return;
  }
  if (value instanceof Date) {
    out.push(`${indent}<date>${dateText(value, path)}</date>\n`);
    return;
  }
  if (value instanceof Uint8Array) {
    // The DTD's `data` is base64 (RFC 4648 §4); whitespace inside is allowed but not needed.
    out.push(
      `${indent}<data>${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}</data>\n`,
    );
    return;
  }
  if (depth >= MAX_DEPTH) fail(`${where} is nested more than ${MAX_DEPTH} levels deep`, path);
  if (open.has(value)) fail(`${where} contains itself`, path);

  open.add(value);
  if (Array.isArray(value)) {
    writeArray(value as readonly unknown[], depth, path, out, open);
  } else if (value instanceof Map) {
    writeDict([...(value as Map<unknown, unknown>).entries()], depth, path, out, open);
  } else if (isPlainObject(value)) {
    writeDict(Object.entries(value), depth, path, out, open);
  } else {
    fail(`${where} is a ${value.constructor.name}, which a property list cannot hold`, path);
  }
  open.delete(value);
}

function writeArray(
  items: readonly unknown[],
  depth: number,
  path: string,
  out: string[],
  open: Set<object>,
) {
  const indent = '\t'.repeat(depth);
  if (items.length === 0) {
    out.push(`${indent}<array/>\n`);
    return;
  }
  out.push(`${indent}<array>\n`);
  // Index by index, so that a hole in a sparse array is reported rather than skipped.
  for (let i = 0; i < items.length; i++) write(items[i], depth + 1, `${path}[${i}]`, out, open);
  out.push(`${indent}</array>\n`);
}

function writeDict(
  entries: readonly (readonly [unknown, unknown])[],
  depth: number,
  path: string,
  out: string[],
  open: Set<object>,
) {
  const indent = '\t'.repeat(depth);
  const present = entries.filter(([, v]) => v !== undefined);
  if (present.length === 0) {
    out.push(`${indent}<dict/>\n`);
    return;
  }
  out.push(`${indent}<dict>\n`);
  for (const [key, v] of present) {
    if (typeof key !== 'string')
      fail(`${path || 'the root dictionary'} has a key that is not a string`, path);
    const child = path === '' ? key : `${path}.${key}`;
    out.push(`${indent}\t<key>${escapeText(key, child)}</key>\n`);
    write(v, depth + 1, child, out, open);
  }
  out.push(`${indent}</dict>\n`);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Escapes character data (XML 1.0 §2.4): `&` and `<` always, `>` always too (so `]]>` can never
 * appear), and carriage returns as `&#13;`, because a parser turns a literal CR or CRLF into LF
 * (XML 1.0 §2.11) while a character reference survives (likewise NEL and LINE SEPARATOR, which
 * XML 1.1 §2.11 adds). Characters XML 1.0 cannot carry at all
 * (§2.2: most C0 controls, lone surrogates, U+FFFE and U+FFFF) are refused.
 */
function escapeText(text: string, path: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let replacement: string | undefined;
    if (c === 0x26) replacement = '&amp;';
    else if (c === 0x3c) replacement = '&lt;';
    else if (c === 0x3e) replacement = '&gt;';
    else if (c === 0x0d) replacement = '&#13;';
    // NEL and LINE SEPARATOR end lines in XML 1.1, and parsers that follow it (xmldom does)
    // turn them into LF: as references they reach every parser as they are.
    else if (c === 0x85) replacement = '&#133;';
    else if (c === 0x2028) replacement = '&#8232;';
    else if (c < 0x20 && c !== 0x09 && c !== 0x0a) badChar(c, path);
    else if (c === 0xfffe || c === 0xffff) badChar(c, path);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) badChar(c, path);
      i++; // a valid pair: the low half is copied with it
    } else if (c >= 0xdc00 && c <= 0xdfff) badChar(c, path);
    if (replacement !== undefined) {
      out += text.slice(start, i) + replacement;
      start = i + 1;
    }
  }
  return start === 0 ? text : out + text.slice(start);
}

function badChar(code: number, path: string): never {
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  fail(`${path || 'the root value'} holds the character U+${hex}, which XML 1.0 cannot carry`, path);
}

function realText(value: number, path: string): string {
  // CFPropertyList writes NaN and infinities as words that most other readers do not accept.
  if (!Number.isFinite(value)) fail(`${path || 'the root value'} (${value}) is not a finite number`, path);
  // `String` gives the shortest text that reads back to the same double (ECMA-262 Number::toString).
  return Object.is(value, -0) ? '-0' : String(value);
}

/**
 * Apple's plist dates are ISO 8601 in UTC to the second: `2024-05-01T09:30:00Z`. Milliseconds are
 * dropped (rounded down), the only lossy step this writer takes, since the format has no place
 * for them.
 */
function dateText(date: Date, path: string): string {
  const time = date.getTime();
  if (Number.isNaN(time)) fail(`${path || 'the root value'} is an invalid date`, path);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999)
    fail(`${path || 'the root value'} (year ${year}) is outside years 0–9999`, path);
  const whole = new Date(Math.floor(time / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${whole.slice(0, 19)}Z`;
}

function fail(message: string, path: string): never {
  throw RempartError.validation(`Cannot write this property list: ${message}.`, { path });
}
