/**
 * IP addresses and CIDR ranges as the responders need them: one canonical spelling per address
 * (so that `2001:DB8::0:1` and `2001:db8::1` are one block, not two), IPv4-mapped IPv6 addresses
 * taken as the IPv4 address they carry (a dual-stack socket logs `::ffff:203.0.113.5` for an IPv4
 * client: nftables must put it in the IPv4 set), and range membership on the address's bytes.
 *
 * Pure parsers: they return `undefined` for what is not an address instead of throwing.
 *
 * @example
 *   parseAddress('::FFFF:203.0.113.5'); // { family: 4, address: '203.0.113.5', bytes: … }
 *   parseAddress('2001:DB8:0:0:0:0:0:1'); // { family: 6, address: '2001:db8::1', bytes: … }
 *   parseCidr('10.0.0.0/8')?.contains(parseAddress('10.1.2.3')!); // true
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  /** The canonical text: dotted quad, or RFC 5952 for IPv6 (lower case, longest zero run as `::`). */
  address: string;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr {
  family: 4 | 6;
  /** The range's first address and its prefix length, canonical: `10.0.0.0/8`. */
  text: string;
  bytes: Uint8Array;
  prefix: number;
  contains(address: IpAddress): boolean;
}

// The longest IPv6 spelling with an embedded IPv4 address is 45 characters; anything longer is not
// an address and is refused before any work.
const MAX_ADDRESS_TEXT = 45;

/** The address `text` spells, canonical; `undefined` when it is not one (zone ids included). */
export function parseAddress(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > MAX_ADDRESS_TEXT) return undefined;
  if (isIPv4(text)) {
    const bytes = Uint8Array.from(text.split('.').map(Number));
    return { family: 4, address: formatIpv4(bytes), bytes };
  }
  // A zone id (`fe80::1%eth0`) names an interface of the machine that logged it, not a host that
  // a firewall set can hold.
  if (text.includes('%') || !isIPv6(text)) return undefined;
  const bytes = ipv6Bytes(text);
  if (isIpv4Mapped(bytes)) {
    const v4 = bytes.slice(12);
    return { family: 4, address: formatIpv4(v4), bytes: v4 };
  }
  return { family: 6, address: formatIpv6(bytes), bytes };
}

/** The range `text` spells (`192.0.2.0/24`, `2001:db8::/32`, or one address); `undefined` when bad. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  // The address part is read as written: `::ffff:10.0.0.0/104` is an IPv6 range, whose mapped
  // addresses are matched by the IPv4 range they carry.
  let bytes: Uint8Array;
  let family: 4 | 6;
  if (isIPv4(addressText)) {
    bytes = Uint8Array.from(addressText.split('.').map(Number));
    family = 4;
  } else if (addressText.length <= MAX_ADDRESS_TEXT && !addressText.includes('%') && isIPv6(addressText)) {
    bytes = ipv6Bytes(addressText);
    family = 6;
  } else return undefined;
  const bits = bytes.length * 8;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > bits) return undefined;
  }
  if (family === 6 && prefix >= 96 && isIpv4Mapped(bytes)) {
    bytes = bytes.slice(12);
    prefix -= 96;
    family = 4;
  }
  const first = maskBytes(bytes, prefix);
  const canonical = `${family === 4 ? formatIpv4(first) : formatIpv6(first)}/${prefix}`;
  return {
    family,
    text: canonical,
    bytes: first,
    prefix,
    contains: (address) => address.family === family && samePrefix(first, address.bytes, prefix),
  };
}

/** Whether `address` is a loopback address (127.0.0.0/8, ::1). */
export function isLoopback(address: IpAddress): boolean {
  if (address.family === 4) return address.bytes[0] === 127;
  return address.bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

/** Whether `address` is the unspecified address (0.0.0.0, ::): no host sends from it. */
export function isUnspecified(address: IpAddress): boolean {
  return address.bytes.every((b) => b === 0);
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** The 16 bytes of an address `isIPv6` accepted (RFC 4291 §2.2, the three text forms). */
function ipv6Bytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let rest = text;
  let v4: number[] | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (rest.includes('.', lastColon)) {
    v4 = rest
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    rest = `${rest.slice(0, lastColon + 1)}0:0`;
  }
  const double = rest.indexOf('::');
  const split = (part: string) => (part === '' ? [] : part.split(':'));
  let groups: string[];
  if (double === -1) groups = split(rest);
  else {
    const head = split(rest.slice(0, double));
    const tail = split(rest.slice(double + 2));
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  }
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    out[i * 2] = value >> 8;
    out[i * 2 + 1] = value & 0xff;
  });
  if (v4) v4.forEach((b, i) => (out[12 + i] = b));
  return out;
}

function formatIpv4(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}

/** RFC 5952 §4: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    // §4.2.3: the first of equally long runs is the one shortened.
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  if (a.length !== b.length) return false;
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}
