import fc from 'fast-check';
import { build, buildBinary } from 'plist';
import { describe, expect, it } from 'vitest';
import { readBinaryPlist, readPlist, type PlistValue } from './plist.js';

/**
 * Values both plist forms carry unchanged: whole-second dates, no -0, keys that are plain names.
 * Negative integers are left to hand-made plists: the writer used here stores those above -2^31 in
 * 4 signed bytes, where Apple's format (CFBinaryPList.c) reads 1, 2 and 4-byte integers as unsigned
 * and writes negative ones in 8 bytes.
 */
const plistValue: fc.Arbitrary<PlistValue> = fc.letrec<{ value: PlistValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.nat(),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((x) => !Object.is(x, -0) && !(Number.isInteger(x) && x < 0 && x >= -2_147_483_648)),
    fc.boolean(),
    fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }).map((s) => new Date(s * 1000)),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ minLength: 1 }).filter((k) => k !== '__proto__'),
      tie('value'),
      {
        maxKeys: 5,
        noNullPrototype: true,
      },
    ),
  ),
})).value;

/** Text XML 1.0 can carry, without carriage returns (XML parsers turn them into line feeds). */
const xmlText = fc.string({ unit: 'grapheme' }).map((s) =>
  [...s]
    .filter((c) => {
      const code = c.codePointAt(0)!;
      return (code >= 0x20 || code === 0x09 || code === 0x0a) && code !== 0xfffe && code !== 0xffff;
    })
    .join(''),
);

/** Values an XML plist carries unchanged. */
const xmlValue: fc.Arbitrary<PlistValue> = fc.letrec<{ value: PlistValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    xmlText,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
    fc.boolean(),
    fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }).map((s) => new Date(s * 1000)),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      xmlText.filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 5, noNullPrototype: true },
    ),
  ),
})).value;

/** A binary plist put together by hand: `objects` (their bytes) and the index of the root one. */
function handMade(objects: number[][], top = 0): Uint8Array {
  const header = [...Buffer.from('bplist00')];
  const offsets: number[] = [];
  const body: number[] = [];
  for (const object of objects) {
    offsets.push(header.length + body.length);
    body.push(...object);
  }
  const tableAt = header.length + body.length;
  const offsetSize = 2;
  const table = offsets.flatMap((o) => [o >> 8, o & 0xff]);
  const u64 = (n: number) => [0, 0, 0, 0, 0, 0, (n >> 8) & 0xff, n & 0xff];
  const trailer = [0, 0, 0, 0, 0, 0, offsetSize, 2, ...u64(objects.length), ...u64(top), ...u64(tableAt)];
  return Uint8Array.from([...header, ...body, ...table, ...trailer]);
}

/** An array object (marker 0xA) of 2-byte references. */
const array = (...refs: number[]) => {
  const size = refs.length < 15 ? [0xa0 | refs.length] : [0xaf, 0x11, refs.length >> 8, refs.length & 0xff];
  return [...size, ...refs.flatMap((r) => [r >> 8, r & 0xff])];
};

describe('property lists', () => {
  it('reads back every value a binary plist writer writes', () => {
    fc.assert(
      fc.property(plistValue, (value) => {
        expect(readPlist(buildBinary(value))).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('reads back every value an XML plist writer writes', () => {
    fc.assert(
      fc.property(xmlValue, (value) => {
        expect(readPlist(Buffer.from(build(value)))).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('reads XML entities, character references, CDATA, comments and a DOCTYPE', () => {
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
      '<!-- written by hand -->',
      '<plist version="1.0"><dict>',
      '  <key>a &amp; b</key><string>&lt;x&gt; &#233;&#x1F600; <![CDATA[<raw> & more]]><!-- gone --></string>',
      '  <key>empty</key><string/>',
      '  <key>hex</key><integer>0x1F</integer>',
      '  <key>neg</key><integer>-12</integer>',
      '  <key>inf</key><real>-inf</real>',
      '  <key>yes</key><true/>',
      '  <key>no</key><false></false>',
      '  <key>list</key><array><data>AQ\n  ID</data><dict/></array>',
      '</dict></plist>',
    ].join('\n');
    expect(readPlist(Buffer.from(xml))).toEqual({
      'a & b': '<x> é😀 <raw> & more',
      empty: '',
      hex: 31,
      neg: -12,
      inf: -Infinity,
      yes: true,
      no: false,
      list: [Uint8Array.of(1, 2, 3), {}],
    });
  });

  it('refuses malformed XML plists with an Error naming the place', () => {
    for (const xml of [
      '<plist><dict><string>a</string></dict></plist>',
      '<plist><array><string>a</array></plist>',
      '<plist><integer>12a</integer></plist>',
      '<plist><date>yesterday</date></plist>',
      '<plist><string>&bogus;</string></plist>',
      '<plist><string>&#x110000;</string></plist>',
      '<plist><string>open',
      '<html></html>',
    ])
      expect(() => readPlist(Buffer.from(xml)), xml).toThrow(/^XML plist: .* at offset \d+$/);
  });

  it('refuses any text with an Error, and never writes to the console', () => {
    const token = fc.constantFrom(
      '<plist>',
      '</plist>',
      '<dict>',
      '</dict>',
      '<key>',
      '</key>',
      '<array>',
      '<string>',
      '</string>',
      '<true/>',
      '<![CDATA[',
      ']]>',
      '<!--',
      '-->',
      '&amp;',
      '&#',
      '<',
      '>',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(token, fc.string({ maxLength: 5 })), { maxLength: 40 }), (parts) => {
        try {
          readPlist(Buffer.from(`<plist>${parts.join('')}`));
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads XML plists as well, told apart by their first bytes', () => {
    const value = {
      Name: 'iPhone',
      When: new Date('2023-01-01T00:00:00Z'),
      List: [1, 2.5, true],
      Data: Uint8Array.of(1, 2),
    };
    expect(readPlist(Buffer.from(build(value)))).toEqual(value);
    expect(readPlist(Buffer.from(`\uFEFF${build(value)}`))).toEqual(value);
  });

  it('reads 8-byte integers as signed and smaller ones as unsigned, as Apple writes them', () => {
    expect(readBinaryPlist(handMade([[0x13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]]))).toBe(-2);
    expect(readBinaryPlist(handMade([[0x12, 0xff, 0xff, 0xff, 0xfe]]))).toBe(4_294_967_294);
  });

  it('reads NSKeyedArchiver references as UIDs', () => {
    expect(readPlist(buildBinary({ $top: { root: { UID: 1 } } }))).toEqual({ $top: { root: { UID: 1 } } });
  });

  it('keeps a key named __proto__ as a key', () => {
    const key = [0x59, ...Buffer.from('__proto__')];
    const dict = handMade([[0xd1, 0, 1, 0, 2], key, [0x51, 0x78]]);
    const value = readBinaryPlist(dict) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });

  it('refuses a plist that contains itself', () => {
    expect(() => readBinaryPlist(handMade([array(0)]))).toThrow(/contains itself/);
  });

  it('reads an object named a billion times over in the time it takes to read the file', () => {
    // Each level names the next twice: 2^30 leaves for a reader that decodes every reference.
    const levels = 30;
    const objects = Array.from({ length: levels }, (_, i) => array(i + 1, i + 1));
    objects.push([0x51, 0x78]);
    const started = performance.now();
    let value = readBinaryPlist(handMade(objects));
    for (let i = 0; i < levels; i++) value = (value as PlistValue[])[1]!;
    expect(value).toBe('x');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses nesting deeper than iOS writes', () => {
    const objects = Array.from({ length: 400 }, (_, i) => array(i + 1));
    objects.push([0x00]);
    expect(() => readBinaryPlist(handMade(objects))).toThrow(/nested deeper/);
  });

  it('refuses anything else with an Error, quickly', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.uint8Array({ maxLength: 512 }).map((b) => Uint8Array.from([...Buffer.from('bplist00'), ...b])),
      // A well-formed trailer and offset table around random objects.
      fc
        .array(fc.uint8Array({ minLength: 1, maxLength: 24 }), { minLength: 1, maxLength: 20 })
        .map((objects) => handMade(objects.map((o) => [...o]))),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          readPlist(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses text that is not a plist without handing it to the XML parser', () => {
    expect(() => readPlist(Buffer.from('hello'))).toThrow(/not a property list/);
    expect(() => readPlist(new Uint8Array(0))).toThrow(/not a property list/);
  });
});
