/**
 * The answer cache of the DNS resolver.
 *
 * An entry is a whole upstream answer kept as bytes (a `ResponseTemplate`): a hit copies it and
 * patches the ID, the question's letter case and the TTLs, without decoding anything. Keys are built
 * by the resolver from the lower-case name, the type, the class and the DO and CD bits, because
 * answers with and without DNSSEC records differ.
 *
 * How long an answer is kept (RFC 2181 §8, RFC 2308):
 * - a positive answer: its smallest TTL, raised to `minTtl` and capped at `maxTtl`;
 * - NXDOMAIN or NODATA: min(SOA TTL, SOA MINIMUM) of the SOA in the authority section (RFC 2308 §5),
 *   capped at `maxNegativeTtl`; without an SOA it is not kept (RFC 2308 §5: "SHOULD NOT be cached");
 * - SERVFAIL, REFUSED and the other errors, and truncated answers: never kept (RFC 2308 §7.1 allows
 *   a few minutes for SERVFAIL; a resolver that forwards is better off asking again).
 * The TTLs the answer carries are lowered to match, so that clients do not keep it longer.
 *
 * Eviction when full is second chance (CLOCK), an approximation of least-recently-used that costs a
 * hit nothing but a flag: the oldest entry goes unless it was read since it last came round.
 */
import { RempartError } from '@rempart/core';
import { Rcode, type ResponseTemplate } from './dns-wire.js';

export interface DnsCacheOptions {
  /** Entries kept at most (default 50,000; 0 turns the cache off). */
  maxEntries?: number;
  /** Seconds a positive answer is kept at most (default one day). */
  maxTtl?: number;
  /** Seconds a positive answer is kept at least (default 0: its own TTL). */
  minTtl?: number;
  /** Seconds a negative answer is kept at most (default one hour, RFC 2308 §5 suggests 1–3 hours). */
  maxNegativeTtl?: number;
}

export interface CacheLimits {
  readonly maxTtl: number;
  readonly minTtl: number;
  readonly maxNegativeTtl: number;
}

export const defaultCacheOptions = {
  maxEntries: 50_000,
  maxTtl: 86_400,
  minTtl: 0,
  maxNegativeTtl: 3_600,
} as const satisfies Required<DnsCacheOptions>;

export interface CachedAnswer {
  readonly template: ResponseTemplate;
  /** Milliseconds on the cache's clock. */
  readonly storedAt: number;
  readonly expiresAt: number;
  /** Read since eviction last came round (see the module comment). */
  hot: boolean;
}

/** Whether an answer is negative: NXDOMAIN, or NOERROR with no answer records (NODATA, RFC 2308 §2.2). */
export function isNegative(tpl: ResponseTemplate): boolean {
  return tpl.rcode === Rcode.NXDOMAIN || (tpl.rcode === Rcode.NOERROR && tpl.ancount === 0);
}

/** Seconds an answer may be kept (0: not at all), per the rules in the module comment. */
export function cacheLifetime(tpl: ResponseTemplate, limits: CacheLimits): number {
  if (tpl.flags & 0x0200) return 0; // TC: incomplete
  if (isNegative(tpl)) {
    if (tpl.soaIndex < 0) return 0;
    return Math.min(tpl.ttls[tpl.soaIndex]!, tpl.soaMinimum, limits.maxNegativeTtl);
  }
  if (tpl.rcode !== Rcode.NOERROR || tpl.ttls.length === 0) return 0;
  let min = tpl.ttls[0]!;
  for (const ttl of tpl.ttls) if (ttl < min) min = ttl;
  return Math.min(Math.max(min, limits.minTtl), limits.maxTtl);
}

/** Lowers (or, for `minTtl`, raises) the TTLs an answer carries to match its lifetime. */
function adjustTtls(tpl: ResponseTemplate, lifetime: number, limits: CacheLimits): void {
  const { ttls } = tpl;
  const negative = isNegative(tpl);
  for (let i = 0; i < ttls.length; i++) {
    // RFC 2308 §5: the SOA of a negative answer carries the negative TTL itself.
    if (negative) ttls[i] = i === tpl.soaIndex ? lifetime : Math.min(ttls[i]!, lifetime);
    else ttls[i] = Math.min(Math.max(ttls[i]!, limits.minTtl), limits.maxTtl);
  }
}

export class DnsCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private readonly maxEntries: number;
  private readonly limits: CacheLimits;
  private evicted = 0;

  constructor(options: DnsCacheOptions = {}) {
    const o = { ...defaultCacheOptions, ...options };
    const bad = Object.entries(o).filter(([, value]) => !Number.isInteger(value) || value < 0);
    if (bad.length > 0)
      throw RempartError.validation(
        `DNS cache options must be whole numbers ≥ 0: ${bad.map(([name, value]) => `${name}=${value}`).join(', ')}`,
      );
    this.maxEntries = o.maxEntries;
    this.limits = { maxTtl: o.maxTtl, minTtl: o.minTtl, maxNegativeTtl: o.maxNegativeTtl };
  }

  /** The live entry for `key` at `now` (ms), or undefined; an expired entry is dropped. */
  get(key: string, now: number): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    entry.hot = true;
    return entry;
  }

  /**
   * Keeps an answer if its lifetime allows, lowering the TTLs it carries to match (the caller
   * replays the same template to the clients waiting for it). Returns the lifetime in seconds,
   * 0 when the answer was not kept.
   */
  put(key: string, template: ResponseTemplate, now: number): number {
    const lifetime = cacheLifetime(template, this.limits);
    if (lifetime > 0) adjustTtls(template, lifetime, this.limits);
    if (lifetime === 0 || this.maxEntries === 0) return 0;
    this.entries.delete(key);
    this.entries.set(key, { template, storedAt: now, expiresAt: now + lifetime * 1000, hot: false });
    if (this.entries.size > this.maxEntries) this.evict(now);
    return lifetime;
  }

  private evict(now: number): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.entries().next().value;
      if (oldest === undefined) return;
      const [key, entry] = oldest;
      this.entries.delete(key);
      if (entry.hot && entry.expiresAt > now) {
        entry.hot = false;
        this.entries.set(key, entry);
      } else this.evicted++;
    }
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries evicted for room since the cache was made (expiry aside). */
  get evictions(): number {
    return this.evicted;
  }
}
