import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fields, keyValues, keyValuesIn, numeric, postfixClient, postfixClientIn } from './fields.js';

describe('key=value pairs', () => {
  it('read bracketed values with spaces and commas, bare flags, renames and numbers', () => {
    expect(
      keyValues(
        'user=<a b, c>, method=PLAIN, rip=192.0.2.1, mpid=77, TLS, session=<x>',
        {},
        new Map([['rip', 'src_ip']]),
        new Set(['mpid']),
      ),
    ).toEqual({ user: 'a b, c', method: 'PLAIN', src_ip: '192.0.2.1', mpid: 77, TLS: true, session: 'x' });
    expect(keyValues('ehlo=1 auth=0/1 quit=1 commands=2/3', {})).toEqual({
      ehlo: '1',
      auth: '0/1',
      quit: '1',
      commands: '2/3',
    });
    expect(keyValues('user=<unterminated, x=1', {})).toEqual({ user: 'unterminated, x=1' });
  });

  it('read back any pairs written the way Postfix and Dovecot write them', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/).filter((k) => k !== '__proto__');
    const plain = fc.stringMatching(/^[^\s,<>]{0,20}$/);
    const bracketed = fc.stringMatching(/^[^>]{0,20}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, fc.boolean(), plain, bracketed), { selector: ([k]) => k, maxLength: 8 }),
        fc.constantFrom(', ', ' '),
        (pairs, separator) => {
          const text = pairs.map(([k, b, p, q]) => (b ? `${k}=<${q}>` : `${k}=${p}`)).join(separator);
          const expected = Object.fromEntries(pairs.map(([k, b, p, q]) => [k, b ? q : p]));
          expect(keyValues(text, {})).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throw, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const out = keyValues(text, {});
        expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a Postfix client', () => {
  it('gives host, address and port, and no address for unknown', () => {
    const out = {};
    expect(postfixClient('mail.example[203.0.113.4]:2525', out)).toBe(true);
    expect(out).toEqual({ client_host: 'mail.example', src_ip: '203.0.113.4', src_port: 2525 });
    const unknown = {};
    expect(postfixClient('unknown[unknown]', unknown)).toBe(true);
    expect(unknown).toEqual({ client_host: 'unknown' });
    expect(postfixClient('no brackets here', {})).toBe(false);
  });
});

// The readers as they were written before the scanners: the references the scanners must equal.
function keyValuesWithoutShortcuts(
  text: string,
  out: Fields,
  names?: ReadonlyMap<string, string>,
  numbers?: ReadonlySet<string>,
): Fields {
  let i = 0;
  const n = text.length;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (i < n && (c === 0x20 || c === 0x2c)) c = text.charCodeAt(++i);
    if (i >= n) break;
    let j = i;
    while (j < n && (c = text.charCodeAt(j)) !== 0x3d && c !== 0x20 && c !== 0x2c) j++;
    const key = text.slice(i, j);
    if (c !== 0x3d || j >= n) {
      if (/^[A-Za-z][\w-]*$/.test(key)) out[key] = true;
      i = j;
      continue;
    }
    j++;
    let value: string;
    if (text.charCodeAt(j) === 0x3c) {
      const close = text.indexOf('>', j + 1);
      value = text.slice(j + 1, close < 0 ? n : close);
      i = close < 0 ? n : close + 1;
    } else {
      let k = j;
      while (k < n && (c = text.charCodeAt(k)) !== 0x2c && c !== 0x20) k++;
      value = text.slice(j, k);
      i = k;
    }
    if (key === '' || key === '__proto__') continue;
    const name = names?.get(key) ?? key;
    out[name] = numbers?.has(name) === true ? (/^\d{1,15}$/.test(value) ? Number(value) : value) : value;
  }
  return out;
}

const CLIENT = /^([^\s[\]]*)\[([0-9A-Fa-f.:]{1,45}|unknown)\](?::(\d{1,5}))?/;
function postfixClientWithoutShortcuts(text: string, out: Fields): boolean {
  const m = CLIENT.exec(text);
  if (!m) return false;
  out.client_host = m[1] as string;
  if (m[2] !== 'unknown') out.src_ip = m[2] as string;
  if (m[3] !== undefined) out.src_port = Number(m[3]);
  return true;
}

/** Texts made of the pieces of pairs, in any order: mostly near misses. */
const pairLike = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'from',
        'size',
        'nrcpt',
        'rip',
        'TLS',
        '__proto__',
        'x-y',
        '_a',
        '9',
        '=',
        '<',
        '>',
        ',',
        ', ',
        ' ',
        '  ',
        '123',
        '0123456789012345',
        '12a',
        '-',
        'é',
        '\t',
        '\u00a0',
      ),
      fc.string({ maxLength: 5 }),
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(''));

/** Texts made of the pieces of Postfix clients. */
const clientLike = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'mail.example',
        'unknown',
        '[',
        ']',
        '[unknown]',
        '203.0.113.4',
        '2001:db8::1',
        'A'.repeat(45),
        'f'.repeat(46),
        ':',
        ':25',
        ':123456',
        ' ',
        '\t',
        '\u3000',
        'g',
      ),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

describe('the pair and client scanners against the readers they replace', () => {
  const names = new Map([
    ['rip', 'src_ip'],
    ['from', 'sender'],
  ]);
  const numbers = new Set(['size', 'nrcpt', 'src_ip']);

  it('read any text as the reference does, key order included, within any bounds', () => {
    fc.assert(
      fc.property(pairLike, fc.boolean(), fc.nat(3), fc.nat(3), (text, options, cutStart, cutEnd) => {
        const expected = options
          ? keyValuesWithoutShortcuts(text, {}, names, numbers)
          : keyValuesWithoutShortcuts(text, {});
        const got = options ? keyValues(text, {}, names, numbers) : keyValues(text, {});
        expect(Object.entries(got)).toEqual(Object.entries(expected));
        const start = Math.min(cutStart, text.length);
        const end = Math.max(start, text.length - cutEnd);
        const inner = text.slice(start, end);
        expect(Object.entries(keyValuesIn(text, start, end, {}, names, numbers))).toEqual(
          Object.entries(keyValuesWithoutShortcuts(inner, {}, names, numbers)),
        );
      }),
      { numRuns: 10_000 },
    );
  });

  it('read numbers as ^\\d{1,15}$ does', () => {
    fc.assert(
      fc.property(fc.oneof(pairLike, fc.stringMatching(/^\d{1,17}$/)), (value) => {
        expect(numeric(value)).toBe(/^\d{1,15}$/.test(value) ? Number(value) : value);
      }),
      { numRuns: 5000 },
    );
  });

  it('read any client as CLIENT does, within any bounds', () => {
    fc.assert(
      fc.property(clientLike, fc.nat(3), (text, cut) => {
        const expected: Fields = {};
        const matched = postfixClientWithoutShortcuts(text, expected);
        const got: Fields = {};
        expect(postfixClient(text, got)).toBe(matched);
        expect(Object.entries(got)).toEqual(Object.entries(expected));
        const end = Math.max(0, text.length - cut);
        const bounded: Fields = {};
        const inner: Fields = {};
        expect(postfixClientIn(`${text}`, 0, end, bounded)).toBe(
          postfixClientWithoutShortcuts(text.slice(0, end), inner),
        );
        expect(Object.entries(bounded)).toEqual(Object.entries(inner));
      }),
      { numRuns: 10_000 },
    );
  });
});
