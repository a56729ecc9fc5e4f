/**
 * Character tests and string interning for the parsers' hand-written scanners. The mail parsers
 * read every line of a server's day; a regular expression with captures allocates a match array
 * and a string per group on each line, which costs more than the rules that read the fields. The
 * scanners that replace them walk the line with `charCodeAt` and are tested against the regular
 * expression they replace (the reference, kept in their tests).
 */

/** `[0-9]`. */
export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** `\w` without the `u` flag: `[A-Za-z0-9_]`. */
export function isWordChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** `\s` (ECMA-262 WhiteSpace and LineTerminator): what `\S` runs stop at. */
export function isRegExpSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Whether `text` holds an ECMA-262 LineTerminator (`\n`, `\r`, U+2028, U+2029), which `.` does
 * not match and before which `$` (without the `m` flag) does not: the scanners read `.*$` as "the
 * rest of the text", which is only true without one. Four `indexOf`s are cheaper than a regular
 * expression's call, and a one-byte text is not searched for the last two at all.
 */
export function hasLineTerminator(text: string): boolean {
  return hasLineTerminatorFrom(text, 0);
}

/** `hasLineTerminator(text.slice(start))`, without the slice. */
export function hasLineTerminatorFrom(text: string, start: number): boolean {
  return (
    text.indexOf('\n', start) >= 0 ||
    text.indexOf('\r', start) >= 0 ||
    text.indexOf('\u2028', start) >= 0 ||
    text.indexOf('\u2029', start) >= 0
  );
}

/**
 * The decimal integer of `text[start, end)`, or -1 when it holds anything but digits. For at most
 * 15 digits, which a double holds exactly, it is what `Number` gives for the same text.
 */
export function digitsValue(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + c - 0x30;
  }
  return value;
}

// A direct-mapped cache of short strings by their length and six of their characters. Hosts,
// programs and keys repeat on almost every line: found here, they cost a comparison instead of a
// new string, and a property key that is already the same string object is found faster.
const SLOTS = 4096;
const interned: string[] = new Array<string>(SLOTS).fill('');
const INTERN_MAX = 40;

/**
 * `text.slice(start, end)`, as the string object that an earlier call returned for the same
 * characters where it can (strings being values, only memory and speed can tell the difference).
 */
export function intern(text: string, start: number, end: number): string {
  return internAs(interned, text, start, end);
}

/**
 * `intern` for property names, in a table of their own (see `knownKey`). The strings both return
 * are the engine's own copies of those names (as `Object.keys` gives them), which a property
 * store finds without looking them up.
 */
export function internKey(text: string, start: number, end: number): string {
  return internAs(keys, text, start, end);
}

function internAs(table: string[], text: string, start: number, end: number): string {
  const length = end - start;
  if (length <= 0 || length > INTERN_MAX) return text.slice(start, end);
  const slot = slotOf(text, start, length);
  const known = table[slot] as string;
  if (known.length === length && text.startsWith(known, start)) return known;
  // Kept as the engine's own copy of the name: a slice would keep the whole text it was cut from
  // (a file's chunk of a megabyte) alive for as long as it stays here.
  const slice = text.slice(start, end);
  const fresh = Object.keys({ [slice]: 0 })[0] ?? slice;
  table[slot] = fresh;
  return fresh;
}

// The names `internKey` returned, apart: `knownKey` relies on their having no `=`, space or comma.
const keys: string[] = new Array<string>(SLOTS).fill('');

/**
 * The name `internKey` returned before for `text[start, end)`, or undefined. Callers pass the
 * text before an `=`; the names `internKey` is given are made of characters other than `=`,
 * space and comma, so a name found here is also where a scan for those would have stopped.
 */
export function knownKey(text: string, start: number, end: number): string | undefined {
  const length = end - start;
  if (length <= 0 || length > INTERN_MAX) return undefined;
  const known = keys[slotOf(text, start, length)] as string;
  return known.length === length && text.startsWith(known, start) ? known : undefined;
}

/**
 * The slot of `text[start, start + length)`, from its length and six of its characters: reading
 * every character costs more than `startsWith` does to check the one string found there.
 */
function slotOf(text: string, start: number, length: number): number {
  const last = start + length - 1;
  let hash =
    Math.imul(length, 0x9e3779b1) ^
    Math.imul(text.charCodeAt(start), 0x85ebca6b) ^
    Math.imul(text.charCodeAt(last), 0xc2b2ae35) ^
    Math.imul(text.charCodeAt(start + (length >> 1)), 0x27d4eb2f) ^
    Math.imul(length > 1 ? text.charCodeAt(start + 1) : 0, 0x165667b1) ^
    Math.imul(
      (length > 3 ? text.charCodeAt(last - 3) : 0) + 7 * (length > 1 ? text.charCodeAt(last - 1) : 0),
      0x2545f491,
    );
  hash ^= hash >>> 15;
  return hash & (SLOTS - 1);
}
