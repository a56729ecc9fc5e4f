import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoopback, isUnspecified, parseAddress, parseCidr } from './address.js';

/** 16 bytes as eight groups of four hex digits, uncompressed: the plainest IPv6 spelling. */
const longForm = (bytes: Uint8Array) =>
  Array.from({ length: 8 }, (_, i) =>
    ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16).padStart(4, '0'),
  ).join(':');

const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const bytes4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const isMapped = (b: Uint8Array) => b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

describe('IP addresses', () => {
  it('spells IPv6 addresses the RFC 5952 way: lower case, no leading zeros, longest zero run as ::', () => {
    expect(parseAddress('2001:DB8:0:0:0:0:0:1')?.address).toBe('2001:db8::1');
    expect(parseAddress('2001:0db8:0000:0000:0001:0000:0000:0001')?.address).toBe('2001:db8::1:0:0:1');
    expect(parseAddress('2001:db8:0:1:1:1:1:1')?.address).toBe('2001:db8:0:1:1:1:1:1');
    expect(parseAddress('0:0:0:0:0:0:0:0')?.address).toBe('::');
    expect(parseAddress('fe80::')?.address).toBe('fe80::');
  });

  it('takes an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(parseAddress('::ffff:203.0.113.5')).toMatchObject({ family: 4, address: '203.0.113.5' });
    expect(parseAddress('::FFFF:cb00:7105')).toMatchObject({ family: 4, address: '203.0.113.5' });
  });

  it('refuses what is not one address: text, ports, ranges, zone ids, leading zeros', () => {
    for (const text of [
      '',
      'mail.example',
      '203.0.113.5:25',
      '10.0.0.0/8',
      'fe80::1%eth0',
      '1.2.3',
      '010.1.1.1',
      '-',
    ])
      expect(parseAddress(text)).toBeUndefined();
  });

  it('knows loopback and the unspecified address', () => {
    expect(isLoopback(parseAddress('127.4.5.6')!)).toBe(true);
    expect(isLoopback(parseAddress('::1')!)).toBe(true);
    expect(isLoopback(parseAddress('::ffff:127.0.0.1')!)).toBe(true);
    expect(isLoopback(parseAddress('128.0.0.1')!)).toBe(false);
    expect(isLoopback(parseAddress('::2')!)).toBe(false);
    expect(isUnspecified(parseAddress('0.0.0.0')!)).toBe(true);
    expect(isUnspecified(parseAddress('::')!)).toBe(true);
  });

  it('never throws, and accepts exactly what Node reads as an address (zone ids aside)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (text) => {
        const parsed = parseAddress(text);
        const valid = isIP(text) !== 0 && !text.includes('%');
        expect(parsed !== undefined).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives every spelling of one IPv6 address the same canonical text, which reads back as itself', () => {
    fc.assert(
      fc.property(bytes16, fc.boolean(), (bytes, upper) => {
        const long = longForm(bytes);
        const a = parseAddress(upper ? long.toUpperCase() : long)!;
        const b = parseAddress(long.replace(/(^|:)0{1,3}/g, '$1'))!;
        expect(a.address).toBe(b.address);
        expect(parseAddress(a.address)?.address).toBe(a.address);
        if (isMapped(bytes)) expect(a.family).toBe(4);
        else {
          expect(a.family).toBe(6);
          expect(Array.from(a.bytes)).toEqual(Array.from(bytes));
          expect(a.address).toBe(a.address.toLowerCase());
          expect(a.address.split('::').length).toBeLessThanOrEqual(2);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('CIDR ranges', () => {
  it('contains the addresses of its prefix, and only those', () => {
    const range = parseCidr('192.0.2.0/24')!;
    expect(range.text).toBe('192.0.2.0/24');
    expect(range.contains(parseAddress('192.0.2.200')!)).toBe(true);
    expect(range.contains(parseAddress('192.0.3.1')!)).toBe(false);
    expect(range.contains(parseAddress('::ffff:192.0.2.9')!)).toBe(true);
    expect(parseCidr('2001:db8::/32')!.contains(parseAddress('2001:db8:ffff::1')!)).toBe(true);
    expect(parseCidr('2001:db8::/32')!.contains(parseAddress('2001:db9::1')!)).toBe(false);
    expect(parseCidr('10.1.2.3')!.text).toBe('10.1.2.3/32');
    expect(parseCidr('10.1.2.3/8')!.text).toBe('10.0.0.0/8');
    expect(parseCidr('::ffff:10.0.0.0/104')!.text).toBe('10.0.0.0/8');
  });

  it('refuses a bad range', () => {
    for (const text of [
      '10.0.0.0/33',
      '2001:db8::/129',
      '10.0.0.0/',
      '10.0.0.0/08',
      'x/8',
      '10.0.0.0/-1',
      '/8',
    ])
      expect(parseCidr(text)).toBeUndefined();
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        parseCidr(`${a}/${b}`);
        parseCidr(a);
      }),
      { numRuns: 1000 },
    );
  });

  it('contains an address exactly when their first prefix bits agree', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(bytes4, bytes4, fc.integer({ min: 0, max: 32 })),
          fc.tuple(bytes16, bytes16, fc.integer({ min: 0, max: 128 })),
        ),
        fc.boolean(),
        ([base, other, prefix], share) => {
          // Half the time, the other address is made to share the prefix.
          const candidate = Uint8Array.from(other);
          if (share)
            for (let bit = 0; bit < prefix; bit++) {
              const byte = bit >> 3;
              const mask = 0x80 >> (bit & 7);
              candidate[byte] = (candidate[byte]! & ~mask) | (base[byte]! & mask);
            }
          const text = (b: Uint8Array) => (b.length === 4 ? Array.from(b).join('.') : longForm(b));
          const range = parseCidr(`${text(base)}/${prefix}`)!;
          const address = parseAddress(text(candidate))!;
          let agree = true;
          for (let bit = 0; bit < prefix; bit++)
            if (((base[bit >> 3]! ^ candidate[bit >> 3]!) & (0x80 >> (bit & 7))) !== 0) agree = false;
          // A mapped address or range changes family: compare only when both stay as written.
          if (base.length === 16 && (isMapped(candidate) || (prefix >= 96 && isMapped(base)))) return;
          expect(range.contains(address)).toBe(agree);
          if (share) expect(range.contains(address)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
