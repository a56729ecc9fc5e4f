import fc from 'fast-check';
import { parse } from 'plist';
import { describe, expect, it } from 'vitest';
import { real, toPlistXml, type PlistValue } from './plist.js';

const xmlChar = (c: number) =>
  c === 0x09 ||
  c === 0x0a ||
  c === 0x0d ||
  (c >= 0x20 && c <= 0xd7ff) ||
  (c >= 0xe000 && c <= 0xfffd) ||
  c >= 0x10000;

/** Any string XML 1.0 can carry: every code point but the forbidden controls and non-characters. */
const xmlString = fc.string({
  unit: fc.oneof(
    // Weighted towards the characters that need care in XML.
    fc.constantFrom(
      '<',
      '>',
      '&',
      ']]>',
      '\r',
      '\n',
      '\r\n',
      '\t',
      ' ',
      '"',
      "'",
      '&amp;',
      '<![CDATA[',
      '\u0085',
      '\u2028',
    ),
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc
      .integer({ min: 0, max: 0x10ffff })
      .filter(xmlChar)
      .map((c) => String.fromCodePoint(c)),
  ),
  maxLength: 24,
});

/** A value tree, paired with what `plist.parse` gives back for it. */
type Case = { value: PlistValue; parsed: unknown };

const leaf: fc.Arbitrary<Case> = fc.oneof(
  xmlString.map((s) => ({ value: s, parsed: s })),
  fc.maxSafeInteger().map((n) => ({ value: n, parsed: n })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ value: real(n), parsed: n })),
  fc.boolean().map((b) => ({ value: b, parsed: b })),
  fc
    .date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000))
    .map((d) => ({ value: d, parsed: d })),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ value: bytes, parsed: bytes })),
);

const tree = fc.letrec<{ node: Case }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { maxLength: 5 }).map((items) => ({
      value: items.map((i) => i.value),
      parsed: items.map((i) => i.parsed),
    })),
    fc
      .uniqueArray(
        fc.tuple(
          // plist.parse refuses `__proto__` keys (CVE-2022-22912); Apple's format allows them.
          xmlString.filter((k) => k !== '__proto__'),
          tie('node'),
        ),
        { selector: ([k]) => k, maxLength: 5 },
      )
      .map((entries) => ({
        value: new Map(entries.map(([k, c]) => [k, c.value])),
        parsed: Object.fromEntries(entries.map(([k, c]) => [k, c.parsed])),
      })),
  ),
})).node;

describe('property list writer', () => {
  it('writes a document that Apple’s DTD and the plist package both recognise', () => {
    const xml = toPlistXml({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadRemovalDisallowed: true,
    });
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC')).toBe(true);
    expect(xml).toContain('<integer>1</integer>');
    expect(xml).toContain('<true/>');
    expect(xml.endsWith('</plist>\n')).toBe(true);
    expect(parse(xml)).toEqual({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadRemovalDisallowed: true,
    });
  });

  it('escapes markup in strings and keys so a hostile name cannot open an element or end one', () => {
    const hostile = '</string><key>allowAppInstallation</key><true/> & ]]> <![CDATA[';
    const xml = toPlistXml({ [hostile]: hostile });
    expect(xml).not.toContain('</string><key>');
    expect(xml).not.toContain(']]>');
    expect(xml).toContain('&lt;/string&gt;&lt;key&gt;');
    expect(xml).toContain('&amp;');
    expect(parse(xml)).toEqual({ [hostile]: hostile });
  });

  it('keeps a carriage return, which an XML parser would otherwise turn into a line feed', () => {
    const xml = toPlistXml('line one\r\nline two\rthree');
    expect(xml).toContain('&#13;');
    expect(parse(xml)).toBe('line one\r\nline two\rthree');
  });

  it('keeps NEL and LINE SEPARATOR, which an XML 1.1 parser turns into line feeds, even after a CR', () => {
    const text = 'a\r\u0085b\u2028c\u0085';
    const xml = toPlistXml({ [text]: text });
    expect(xml).toContain('&#13;&#133;b&#8232;c&#133;');
    expect(parse(xml)).toEqual({ [text]: text });
  });

  it('writes whole numbers as integers, others as reals, and real() forces a real', () => {
    const xml = toPlistXml([3, -7, 1.5, real(2), real(-0), 2n ** 63n]);
    expect(xml).toContain('<integer>3</integer>');
    expect(xml).toContain('<integer>-7</integer>');
    expect(xml).toContain('<real>1.5</real>');
    expect(xml).toContain('<real>2</real>');
    expect(xml).toContain('<real>-0</real>');
    expect(xml).toContain('<integer>9223372036854775808</integer>');
  });

  it('writes dates in UTC to the second and data as base64', () => {
    const xml = toPlistXml({
      when: new Date('2024-05-01T09:30:12.987Z'),
      blob: new Uint8Array([0, 255, 16]),
    });
    expect(xml).toContain('<date>2024-05-01T09:30:12Z</date>');
    expect(xml).toContain('<data>AP8Q</data>');
  });

  it('leaves out dictionary entries that are undefined and writes empty containers', () => {
    const xml = toPlistXml({ a: undefined, b: [], c: {} });
    expect(xml).not.toContain('<key>a</key>');
    expect(xml).toContain('<array/>');
    expect(xml).toContain('<dict/>');
    expect(parse(xml)).toEqual({ b: [], c: {} });
  });

  it('refuses values a property list cannot hold exactly, saying where they are', () => {
    const sparse: number[] = [1];
    sparse[2] = 3; // a hole at index 1
    const cases: [unknown, RegExp][] = [
      [{ a: [1, null] }, /a\[1\] is null/],
      [{ bell: 'ring\u0007' }, /bell holds the character U\+0007/],
      [{ half: 'x\ud800y' }, /half holds the character U\+D800/],
      [{ nope: '\uffff' }, /U\+FFFF/],
      [{ n: Number.NaN }, /not a finite number/],
      [{ n: real(Infinity) }, /not a finite number/],
      [{ big: 2 ** 60 }, /past 2\^53/],
      [{ huge: 2n ** 64n }, /does not fit in 64 bits/],
      [{ when: new Date('nope') }, /invalid date/],
      [{ f: () => 1 }, /is a function/],
      [{ s: new Set([1]) }, /is a Set/],
      [sparse, /\[1\] is undefined/],
    ];
    for (const [value, message] of cases) {
      expect(() => toPlistXml(value as PlistValue), String(message)).toThrow(message);
    }
  });

  it('refuses a structure that contains itself instead of looping', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = [loop];
    expect(() => toPlistXml(loop as PlistValue)).toThrow(/self\[0\] contains itself/);
  });

  it('round-trips any value tree through plist.parse (property)', () => {
    fc.assert(
      fc.property(tree, ({ value, parsed }) => {
        expect(parse(toPlistXml(value))).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every string holding a character XML 1.0 cannot carry (property)', () => {
    const forbidden = fc
      .integer({ min: 0, max: 0xffff })
      .filter((c) => !xmlChar(c) || (c >= 0xd800 && c <= 0xdfff))
      .map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(xmlString, forbidden, xmlString, (before, bad, after) => {
        // A high surrogate followed by a low one is a valid pair, not a forbidden character.
        fc.pre(!(/[\ud800-\udbff]/.test(bad) && /^[\udc00-\udfff]/.test(after)));
        fc.pre(!(/[\udc00-\udfff]/.test(bad) && /[\ud800-\udbff]$/.test(before)));
        expect(() => toPlistXml(before + bad + after)).toThrow(/XML 1\.0 cannot carry/);
      }),
    );
  });
});
