import { describe, expect, it } from 'vitest';
import { isAddress, isCidr, joinLines, readLines } from './lines';

describe('a text area of one value a line', () => {
  it('skips blank lines and comments, trims, and keeps a repeated value once', () => {
    const read = readLines('  10.1.0.0/16 \n\n# the cabinet\n10.2.0.0/16\n10.1.0.0/16\r\n', isCidr);
    expect(read).toEqual({ values: ['10.1.0.0/16', '10.2.0.0/16'], problems: [] });
  });

  it('names each refused line by its number in the text area, counting blank lines', () => {
    const read = readLines('10.1.0.0/16\n\n10.0.0/8\nlocalhost', isCidr);
    expect(read.values).toEqual(['10.1.0.0/16']);
    expect(read.problems).toEqual([
      { line: 3, text: '10.0.0/8' },
      { line: 4, text: 'localhost' },
    ]);
  });

  it('writes values back one a line', () => {
    expect(joinLines(['10.1.0.0/16', '2001:db8::/32'])).toBe('10.1.0.0/16\n2001:db8::/32');
  });
});

describe('address ranges', () => {
  it('takes IPv4 and IPv6 ranges, and a lone address', () => {
    for (const range of ['10.20.0.0/16', '192.0.2.7', '0.0.0.0/0', '2001:db8::/32', '::1', 'fd00::/8'])
      expect(isCidr(range), range).toBe(true);
  });

  it('refuses what the API’s pattern alone would let through: parts over 255, prefixes past the address', () => {
    for (const range of ['300.1.2.3/8', '10.20.0.0/33', '2001:db8::/129', '10.0.0.0/8/8', '10.0.0.0/', 'a:b'])
      expect(isCidr(range), range).toBe(false);
  });

  it('knows a client address from a range', () => {
    expect(isAddress('10.20.4.17')).toBe(true);
    expect(isAddress('2001:db8::17')).toBe(true);
    expect(isAddress('10.20.0.0/16')).toBe(false);
  });
});
