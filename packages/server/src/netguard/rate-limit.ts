/**
 * Per-client query rate limits for the DNS resolver: a token bucket per client (`qps` tokens a
 * second, at most `burst` saved up), clients in trusted CIDR ranges exempt.
 *
 * An IPv6 client is counted by its /64: a host picks addresses in its /64 at will (RFC 8981), so
 * counting single addresses would let one host multiply its share.
 *
 * The table is bounded: past `maxClients`, the client seen longest ago goes first, unless it queried
 * since eviction last came round (second chance), so a busy client keeps its empty bucket even when
 * a flood of new source addresses fills the table.
 */
import { RempartError } from '@rempart/core';
import { addressBytes } from './dns-wire.js';

export interface RateLimitOptions {
  /** Queries a second each client may keep sending. */
  qps: number;
  /** Queries a client may send at once after a quiet time (the bucket's size). */
  burst: number;
  /** CIDR ranges ("10.0.0.0/8", "2001:db8::/32") that are never limited. */
  trusted?: readonly string[];
  /** Clients tracked at once (default 100,000). */
  maxClients?: number;
}

/** An IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 client) as plain IPv4. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** What a client is counted as: its IPv4 address, or the /64 of its IPv6 address. */
export function clientKey(address: string): string {
  const plain = plainAddress(address);
  if (!plain.includes(':')) return plain;
  const bytes = addressBytes(plain);
  return bytes ? `${bytes.toString('hex', 0, 8)}::/64` : plain;
}

interface Range {
  readonly bytes: Buffer;
  readonly prefix: number;
}

/** A set of CIDR ranges, IPv4 and IPv6. */
export class CidrSet {
  private readonly ranges: Range[] = [];

  /** Throws a validation error naming every range that does not parse. */
  constructor(cidrs: readonly string[]) {
    const bad: string[] = [];
    for (const cidr of cidrs) {
      const [address = '', prefixText] = cidr.trim().split('/');
      const bytes = addressBytes(address);
      const prefix = prefixText === undefined ? (bytes?.length ?? 0) * 8 : Number(prefixText);
      if (!bytes || !/^\d{1,3}$/.test(String(prefixText ?? prefix)) || prefix > bytes.length * 8) {
        bad.push(cidr);
        continue;
      }
      this.ranges.push({ bytes, prefix });
    }
    if (bad.length > 0) throw RempartError.validation(`not CIDR ranges: ${bad.join(', ')}`, { bad });
  }

  has(address: string): boolean {
    if (this.ranges.length === 0) return false;
    const bytes = addressBytes(plainAddress(address));
    if (!bytes) return false;
    return this.ranges.some((r) => r.bytes.length === bytes.length && samePrefix(r.bytes, bytes, r.prefix));
  }

  get size(): number {
    return this.ranges.length;
  }
}

function samePrefix(a: Buffer, b: Buffer, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
  readonly trusted: boolean;
  hot: boolean;
}

export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private trusted: CidrSet;
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxClients: number;
  private limited = 0;

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(options.qps > 0) || !(options.burst >= 1))
      throw RempartError.validation('a DNS rate limit needs qps > 0 and burst ≥ 1');
    this.trusted = new CidrSet(options.trusted ?? []);
    this.perMs = options.qps / 1000;
    this.burst = options.burst;
    this.maxClients = Math.max(1, options.maxClients ?? 100_000);
  }

  /** Replaces the trusted ranges (a group made trusted in the console); clients are judged afresh. */
  setTrusted(ranges: readonly string[]): void {
    this.trusted = new CidrSet(ranges);
    this.buckets.clear();
  }

  /** Takes a token for one query of `client`; false when it has none left. */
  allow(client: string): boolean {
    const key = clientKey(client);
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxClients) this.evict(this.maxClients - 1);
      bucket = { tokens: this.burst, at: now, trusted: this.trusted.has(client), hot: false };
      this.buckets.set(key, bucket);
    } else bucket.hot = true;
    if (bucket.trusted) return true;
    const tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (tokens < 1) {
      bucket.tokens = tokens;
      this.limited++;
      return false;
    }
    bucket.tokens = tokens - 1;
    return true;
  }

  private evict(keep: number): void {
    while (this.buckets.size > keep) {
      const oldest = this.buckets.entries().next().value;
      if (oldest === undefined) return;
      const [key, bucket] = oldest;
      this.buckets.delete(key);
      if (bucket.hot) {
        bucket.hot = false;
        this.buckets.set(key, bucket);
      }
    }
  }

  /** Clients tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Queries refused since the limiter was made. */
  get refused(): number {
    return this.limited;
  }
}
