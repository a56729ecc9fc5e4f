/**
 * Text areas that hold one value a line (address ranges, app ids, addresses): read into the
 * values the API takes, checked one by one, with the lines refused named by their number.
 */
import { Cidr } from '@rempart/core';
import { z } from 'zod';

/** A line that was not taken, numbered from 1 as an editor shows it. */
export interface LineProblem {
  line: number;
  text: string;
}

export interface ReadLines {
  values: string[];
  problems: LineProblem[];
}

/**
 * Each value with the check `accept`: blank lines and `#` comments are skipped, spaces around a
 * value are dropped, and a value given twice is kept once.
 *
 * @example
 *   readLines('a\n\n# note\nb\na', (v) => v !== 'b') // → { values: ['a'], problems: [{ line: 4, text: 'b' }] }
 */
export function readLines(text: string, accept: (value: string) => boolean): ReadLines {
  const values: string[] = [];
  const problems: LineProblem[] = [];
  const seen = new Set<string>();
  text.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const value = raw.trim();
    if (value === '' || value.startsWith('#')) return;
    if (!accept(value)) problems.push({ line: index + 1, text: value });
    else if (!seen.has(value)) {
      seen.add(value);
      values.push(value);
    }
  });
  return { values, problems };
}

/** Values one a line, as a text area shows them. */
export function joinLines(values: readonly string[]): string {
  return values.join('\n');
}

const Ipv4 = z.ipv4();
const Ipv6 = z.ipv6();

/** An IPv4 or IPv6 address, as the API takes it for a client or a device. */
export function isAddress(value: string): boolean {
  return Ipv4.safeParse(value).success || Ipv6.safeParse(value).success;
}

/**
 * An address range the server will take: the API's `Cidr` shape, then an address whose parts
 * are in range and a prefix no longer than the address (the shape alone lets 300.1.2.3/40 through).
 *
 * @example
 *   isCidr('10.20.0.0/16')   // → true
 *   isCidr('2001:db8::/32')  // → true
 *   isCidr('10.20.0.0/33')   // → false
 */
export function isCidr(value: string): boolean {
  if (!Cidr.safeParse(value).success) return false;
  const [address = '', prefix, ...rest] = value.split('/');
  if (rest.length > 0) return false;
  const bits = Ipv4.safeParse(address).success ? 32 : Ipv6.safeParse(address).success ? 128 : 0;
  if (bits === 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
}
