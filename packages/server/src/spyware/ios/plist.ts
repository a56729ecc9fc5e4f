/**
 * Property lists as an iOS backup holds them: binary (`bplist00`: Manifest.plist, Status.plist,
 * Manifest.db's file records, most preference files) or XML (Info.plist, some preferences).
 *
 * Both readers are our own rather than general-purpose ones because a backup is evidence from a
 * phone that may be compromised: every offset and length is checked against the file, each binary
 * object is decoded once (a list that names the same object a million times costs a million
 * references, not a million decodings), reference cycles and deep nesting are refused, and nothing
 * is written to the console. Errors are plain `Error`s naming what was wrong; the scanner turns
 * them into a failed artifact.
 */

/** A property-list value. Binary UIDs (NSKeyedArchiver's references) read as `{ UID: n }`. */
export type PlistValue = string | number | boolean | Date | Uint8Array | PlistValue[] | PlistDict | null;
export interface PlistDict {
  [key: string]: PlistValue;
}

/** Apple's reference date (2001-01-01T00:00:00Z) in Unix seconds: binary plist dates count from it. */
const APPLE_EPOCH_SECONDS = 978_307_200;

/** Nesting deeper than this is not something iOS writes; refusing it keeps the stack safe. */
const MAX_DEPTH = 256;

const BINARY_MAGIC = 'bplist00';

/**
 * A property list, binary or XML, told apart by its first bytes.
 *
 * @example
 *   readPlist(readFileSync('Manifest.plist')) // { IsEncrypted: false, Applications: {…}, … }
 */
export function readPlist(bytes: Uint8Array): PlistValue {
  if (startsWith(bytes, BINARY_MAGIC)) return readBinaryPlist(bytes);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  if (!/^\s*</.test(text)) throw new Error('not a property list (neither a binary plist nor XML)');
  return readXmlPlist(text);
}

/** A plist value that is a dictionary. */
export function isDict(value: PlistValue | undefined): value is PlistDict {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array)
  );
}

/** A plist value as a string, when it is one (or a number). */
export function plistString(value: PlistValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A plist date, when the value is a valid one. */
export function plistDate(value: PlistValue | undefined): Date | null {
  return value instanceof Date && Number.isFinite(value.getTime()) ? value : null;
}

/** A plist number, when the value is a finite one. */
export function plistNumber(value: PlistValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * The root object of a binary property list, as Apple's CFBinaryPList.c writes it:
 *
 * - the 8-byte header `bplist00`;
 * - the objects, each opening with a marker byte whose high nibble is the type and low nibble the
 *   size (0xF: the size follows as an integer object);
 * - the offset table: the file offset of each object, `offsetSize` bytes each;
 * - a 32-byte trailer: 6 unused bytes, `offsetSize`, `objectRefSize`, then three 8-byte
 *   big-endian integers: the number of objects, the index of the root one and the offset table's
 *   offset.
 *
 * Containers refer to their members by index into the offset table, `objectRefSize` bytes each.
 * UIDs (NSKeyedArchiver's references) come back as `{ UID: n }`.
 */
export function readBinaryPlist(bytes: Uint8Array): PlistValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.byteLength;
  if (length < BINARY_MAGIC.length + 32 || !startsWith(bytes, BINARY_MAGIC))
    throw new Error('not a binary plist (too short or no bplist00 header)');

  const trailer = length - 32;
  const offsetSize = view.getUint8(trailer + 6);
  const refSize = view.getUint8(trailer + 7);
  const count = readUnsigned(view, trailer + 8, 8);
  const top = readUnsigned(view, trailer + 16, 8);
  const tableAt = readUnsigned(view, trailer + 24, 8);
  if (offsetSize < 1 || offsetSize > 8 || refSize < 1 || refSize > 8)
    throw new Error(`binary plist: bad trailer (offset size ${offsetSize}, reference size ${refSize})`);
  if (count < 1 || top >= count || tableAt < BINARY_MAGIC.length || tableAt + count * offsetSize > trailer)
    throw new Error('binary plist: the offset table lies outside the file');

  const offsets = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const offset = readUnsigned(view, tableAt + i * offsetSize, offsetSize);
    if (offset < BINARY_MAGIC.length || offset >= tableAt)
      throw new Error(`binary plist: object ${i} lies outside the object area`);
    offsets[i] = offset;
  }

  const decoded = new Map<number, PlistValue>();
  const inProgress = new Set<number>();

  /** `size` bytes at `at` lie inside the object area. */
  const within = (at: number, size: number, what: string): void => {
    if (!Number.isSafeInteger(size) || size < 0 || at + size > tableAt)
      throw new Error(`binary plist: ${what} runs past the object area`);
  };

  const reference = (at: number): number => {
    within(at, refSize, 'a reference');
    const index = readUnsigned(view, at, refSize);
    if (index >= count) throw new Error(`binary plist: reference to object ${index} of ${count}`);
    return index;
  };

  const object = (index: number, depth: number): PlistValue => {
    const known = decoded.get(index);
    if (known !== undefined) return known;
    if (inProgress.has(index)) throw new Error(`binary plist: object ${index} contains itself`);
    if (depth > MAX_DEPTH) throw new Error(`binary plist: nested deeper than ${MAX_DEPTH}`);
    inProgress.add(index);
    const value = decode(offsets[index]!, depth);
    inProgress.delete(index);
    decoded.set(index, value);
    return value;
  };

  /** The size of the object whose marker is at `at`, and where its content starts. */
  const sized = (at: number): { size: number; start: number } => {
    const low = view.getUint8(at) & 0x0f;
    if (low !== 0x0f) return { size: low, start: at + 1 };
    within(at + 1, 1, 'a size');
    const marker = view.getUint8(at + 1);
    const bytesOfSize = 1 << (marker & 0x0f);
    if (marker >> 4 !== 0x1 || bytesOfSize > 8) throw new Error('binary plist: bad object size');
    within(at + 2, bytesOfSize, 'a size');
    return { size: readUnsigned(view, at + 2, bytesOfSize), start: at + 2 + bytesOfSize };
  };

  const decode = (at: number, depth: number): PlistValue => {
    const marker = view.getUint8(at);
    const low = marker & 0x0f;
    switch (marker >> 4) {
      case 0x0:
        if (marker === 0x08) return false;
        if (marker === 0x09) return true;
        if (marker === 0x00 || marker === 0x0f) return null;
        break;
      case 0x1: {
        // 1, 2 and 4-byte integers are unsigned, 8-byte ones signed; 16-byte ones hold unsigned
        // 64-bit values in their low half.
        const size = 1 << low;
        within(at + 1, size, 'an integer');
        if (size <= 4) return readUnsigned(view, at + 1, size);
        if (size === 8) return Number(view.getBigInt64(at + 1));
        if (size === 16) return Number(view.getBigUint64(at + 9));
        break;
      }
      case 0x2: {
        const size = 1 << low;
        within(at + 1, size, 'a real');
        if (size === 4) return view.getFloat32(at + 1);
        if (size === 8) return view.getFloat64(at + 1);
        break;
      }
      case 0x3:
        if (marker === 0x33) {
          within(at + 1, 8, 'a date');
          return new Date((APPLE_EPOCH_SECONDS + view.getFloat64(at + 1)) * 1000);
        }
        break;
      case 0x4: {
        const { size, start } = sized(at);
        within(start, size, 'data');
        return bytes.slice(start, start + size);
      }
      case 0x5: {
        const { size, start } = sized(at);
        within(start, size, 'a string');
        return Buffer.from(bytes.buffer, bytes.byteOffset + start, size).toString('latin1');
      }
      case 0x6: {
        // UTF-16 big-endian, `size` code units.
        const { size, start } = sized(at);
        within(start, size * 2, 'a string');
        const swapped = Buffer.from(bytes.slice(start, start + size * 2));
        swapped.swap16();
        return swapped.toString('utf16le');
      }
      case 0x8: {
        within(at + 1, low + 1, 'a UID');
        return { UID: readUnsigned(view, at + 1, low + 1) };
      }
      case 0xa:
      case 0xb:
      case 0xc: {
        // Arrays, ordered sets and sets: all read as arrays.
        const { size, start } = sized(at);
        within(start, size * refSize, 'an array');
        const list: PlistValue[] = [];
        for (let i = 0; i < size; i++) list.push(object(reference(start + i * refSize), depth + 1));
        return list;
      }
      case 0xd: {
        // `size` key references, then `size` value references.
        const { size, start } = sized(at);
        within(start, size * 2 * refSize, 'a dictionary');
        const dict: PlistDict = {};
        for (let i = 0; i < size; i++) {
          const key = object(reference(start + i * refSize), depth + 1);
          if (typeof key !== 'string') throw new Error('binary plist: a dictionary key is not a string');
          const value = object(reference(start + (size + i) * refSize), depth + 1);
          setKey(dict, key, value);
        }
        return dict;
      }
      default:
        break;
    }
    throw new Error(`binary plist: unknown object marker 0x${marker.toString(16).padStart(2, '0')}`);
  };

  return object(top, 0);
}

/** A big-endian unsigned integer of 1 to 8 bytes (exact up to 2^53, which bounds every offset here). */
function readUnsigned(view: DataView, at: number, size: number): number {
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + view.getUint8(at + i);
  return value;
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  if (bytes.byteLength < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** Sets `key`: defined, not assigned, so that a key named __proto__ stays a key. */
function setKey(dict: PlistDict, key: string, value: PlistValue): void {
  Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The root object of an XML property list (Apple's PropertyList-1.0 DTD): a `<plist>` element
 * holding one of `<dict>` (`<key>` and value pairs), `<array>`, `<string>`, `<data>` (base64),
 * `<date>` (ISO 8601, UTC), `<integer>`, `<real>`, `<true/>` and `<false/>`. The XML prolog,
 * comments and the DOCTYPE are passed over; text may use the XML entities, character references
 * and CDATA sections (XML 1.0 §4.1, §2.7).
 */
export function readXmlPlist(text: string): PlistValue {
  let at = 0;

  function fail(what: string): never {
    throw new Error(`XML plist: ${what} at offset ${at}`);
  }

  /** Passes over white space, comments, processing instructions and the DOCTYPE. */
  const skipMisc = (): void => {
    for (;;) {
      while (at < text.length && /\s/.test(text[at]!)) at++;
      if (text.startsWith('<?', at)) at = after('?>');
      else if (text.startsWith('<!--', at)) at = after('-->');
      else if (text.startsWith('<!DOCTYPE', at)) {
        // An internal subset in brackets may hold '>': pass over it first.
        const bracket = text.indexOf('[', at);
        const close = text.indexOf('>', at);
        at = bracket !== -1 && bracket < close ? after(']') : at;
        at = after('>');
      } else return;
    }
  };

  /** The offset just past the next `end`. */
  const after = (end: string): number => {
    const found = text.indexOf(end, at);
    if (found === -1) fail(`no closing ${end}`);
    return found + end.length;
  };

  /** An opening tag at `at`: its name, and whether it closes itself (`<true/>`). */
  const openTag = (): { name: string; empty: boolean } => {
    const match = /^<([A-Za-z_][\w.-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(
      text.slice(at, at + 512),
    );
    if (!match) return fail('expected an element');
    at += match[0].length;
    return { name: match[1]!, empty: match[3] === '/' };
  };

  const closeTag = (name: string): void => {
    if (!text.startsWith(`</${name}`, at)) fail(`expected </${name}>`);
    at += name.length + 2;
    while (at < text.length && /\s/.test(text[at]!)) at++;
    if (text[at] !== '>') fail(`expected </${name}>`);
    at++;
  };

  /** The character data up to the next element: entities decoded, CDATA kept, comments dropped. */
  const characters = (): string => {
    let value = '';
    for (;;) {
      const next = text.indexOf('<', at);
      if (next === -1) fail('unterminated element');
      value += decodeEntities(text.slice(at, next));
      at = next;
      if (text.startsWith('<![CDATA[', at)) {
        const end = text.indexOf(']]>', at);
        if (end === -1) fail('unterminated CDATA section');
        value += text.slice(at + 9, end);
        at = end + 3;
      } else if (text.startsWith('<!--', at)) at = after('-->');
      else return value;
    }
  };

  const decodeEntities = (raw: string): string =>
    raw.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, name: string) => {
      if (name.startsWith('#')) {
        const code =
          name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        if (!(code <= 0x10ffff)) return fail(`bad character reference ${entity}`);
        return String.fromCodePoint(code);
      }
      return XML_ENTITIES[name] ?? fail(`unknown entity ${entity}`);
    });

  /** The text content of a leaf element whose opening tag was just read. */
  const leaf = (tag: { name: string; empty: boolean }): string => {
    if (tag.empty) return '';
    const value = characters();
    closeTag(tag.name);
    return value;
  };

  const value = (depth: number): PlistValue => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`);
    const tag = openTag();
    switch (tag.name) {
      case 'dict': {
        const dict: PlistDict = {};
        if (tag.empty) return dict;
        for (;;) {
          skipMisc();
          if (text.startsWith('</', at)) {
            closeTag('dict');
            return dict;
          }
          const keyTag = openTag();
          if (keyTag.name !== 'key') fail(`expected <key>, found <${keyTag.name}>`);
          const key = leaf(keyTag);
          skipMisc();
          setKey(dict, key, value(depth + 1));
        }
      }
      case 'array': {
        const list: PlistValue[] = [];
        if (tag.empty) return list;
        for (;;) {
          skipMisc();
          if (text.startsWith('</', at)) {
            closeTag('array');
            return list;
          }
          list.push(value(depth + 1));
        }
      }
      case 'string':
        return leaf(tag);
      case 'integer': {
        const raw = leaf(tag).trim();
        // Decimal or hexadecimal, as Apple writes them; an exponent, as some writers do for large values.
        const number = /^[+-]?0x[0-9a-f]+$/i.test(raw)
          ? parseInt(raw, 16)
          : /^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(raw)
            ? Number(raw)
            : NaN;
        return Number.isNaN(number) ? fail(`bad integer "${raw.slice(0, 40)}"`) : number;
      }
      case 'real': {
        const raw = leaf(tag).trim().toLowerCase();
        const special: Record<string, number> = {
          nan: NaN,
          inf: Infinity,
          '+inf': Infinity,
          '-inf': -Infinity,
        };
        const number = special[raw] ?? (raw === '' ? NaN : Number(raw));
        return Number.isNaN(number) && raw !== 'nan' ? fail(`bad real "${raw.slice(0, 40)}"`) : number;
      }
      case 'true':
      case 'false':
        if (leaf(tag).trim() !== '') fail(`<${tag.name}> with content`);
        return tag.name === 'true';
      case 'date': {
        const raw = leaf(tag).trim();
        const date = new Date(raw);
        return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(raw) && Number.isFinite(date.getTime())
          ? date
          : fail(`bad date "${raw.slice(0, 40)}"`);
      }
      case 'data': {
        const raw = leaf(tag).replace(/\s+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) fail('bad base64 data');
        return new Uint8Array(Buffer.from(raw, 'base64'));
      }
      default:
        return fail(`unexpected <${tag.name}>`);
    }
  };

  skipMisc();
  const root = openTag();
  if (root.name !== 'plist') fail(`expected <plist>, found <${root.name}>`);
  if (root.empty) return null;
  skipMisc();
  if (text.startsWith('</', at)) {
    closeTag('plist');
    return null;
  }
  const result = value(0);
  skipMisc();
  closeTag('plist');
  return result;
}
