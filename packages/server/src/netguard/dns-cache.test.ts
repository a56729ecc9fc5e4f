import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { cacheLifetime, DnsCache } from './dns-cache.js';
import { inspectResponse, toTemplate, type ResponseTemplate } from './dns-wire.js';

const limits = { maxTtl: 86_400, minTtl: 0, maxNegativeTtl: 3600 };

function soa(ttl: number, minimum: number): dnsPacket.Answer {
  return {
    type: 'SOA',
    name: 'example',
    ttl,
    data: { mname: 'ns.example', rname: 'h.example', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
  };
}

function answer(
  options: { rcode?: number; ttls?: number[]; authorities?: dnsPacket.Answer[]; tc?: boolean } = {},
): ResponseTemplate {
  const buf = dnsPacket.encode({
    type: 'response',
    id: 1,
    flags: (options.rcode ?? 0) | (options.tc ? dnsPacket.TRUNCATED_RESPONSE : 0),
    questions: [{ name: 'www.example', type: 'A' }],
    answers: (options.ttls ?? []).map((ttl, i) => ({
      type: 'A',
      name: 'www.example',
      ttl,
      data: `192.0.2.${i}`,
    })),
    authorities: options.authorities ?? [],
  });
  const info = inspectResponse(buf);
  if (!info.ok) throw new Error(info.reason);
  const t = toTemplate(buf, info);
  if (!t.ok) throw new Error(t.reason);
  return t;
}

describe('how long an answer is kept', () => {
  it('keeps a positive answer for its smallest TTL, capped at maxTtl', () => {
    expect(cacheLifetime(answer({ ttls: [300, 60, 900] }), limits)).toBe(60);
    expect(cacheLifetime(answer({ ttls: [500_000] }), limits)).toBe(86_400);
    expect(cacheLifetime(answer({ ttls: [5] }), { ...limits, minTtl: 30 })).toBe(30);
  });

  it('keeps NXDOMAIN and NODATA for min(SOA TTL, SOA MINIMUM) (RFC 2308 §5)', () => {
    expect(cacheLifetime(answer({ rcode: 3, authorities: [soa(900, 120)] }), limits)).toBe(120);
    expect(cacheLifetime(answer({ rcode: 3, authorities: [soa(40, 120)] }), limits)).toBe(40);
    expect(cacheLifetime(answer({ rcode: 0, authorities: [soa(900, 90)] }), limits)).toBe(90);
    expect(cacheLifetime(answer({ rcode: 3, authorities: [soa(90_000, 90_000)] }), limits)).toBe(3600);
  });

  it('does not keep a negative answer without an SOA, SERVFAIL, REFUSED, a truncated answer, or TTL 0', () => {
    expect(cacheLifetime(answer({ rcode: 3 }), limits)).toBe(0);
    expect(cacheLifetime(answer({ rcode: 2 }), limits)).toBe(0);
    expect(cacheLifetime(answer({ rcode: 5 }), limits)).toBe(0);
    expect(cacheLifetime(answer({ ttls: [300], tc: true }), limits)).toBe(0);
    expect(cacheLifetime(answer({ ttls: [300, 0] }), limits)).toBe(0);
  });
});

describe('the cache', () => {
  it('serves an entry until its lifetime has passed', () => {
    const cache = new DnsCache();
    expect(cache.put('k', answer({ ttls: [60] }), 1_000)).toBe(60);
    expect(cache.get('k', 60_999)?.storedAt).toBe(1_000);
    expect(cache.get('k', 61_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('lowers the TTLs an answer carries to the caps, and the SOA TTL of a negative answer to its lifetime', () => {
    const cache = new DnsCache({ maxTtl: 100 });
    const positive = answer({ ttls: [50, 500] });
    cache.put('p', positive, 0);
    expect(positive.ttls).toEqual([50, 100]);
    const negative = answer({ rcode: 3, authorities: [soa(900, 120)] });
    cache.put('n', negative, 0);
    expect(negative.ttls).toEqual([120]);
  });

  it('refuses what it must not keep', () => {
    const cache = new DnsCache();
    expect(cache.put('s', answer({ rcode: 2 }), 0)).toBe(0);
    expect(cache.get('s', 0)).toBeUndefined();
  });

  it('evicts the oldest entry not read since, and keeps one read recently', () => {
    const cache = new DnsCache({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) cache.put(key, answer({ ttls: [300] }), 0);
    cache.get('a', 1);
    cache.put('d', answer({ ttls: [300] }), 2);
    expect(cache.get('a', 3)).toBeDefined();
    expect(cache.get('b', 3)).toBeUndefined();
    expect(cache.get('c', 3)).toBeDefined();
    expect(cache.get('d', 3)).toBeDefined();
    expect(cache.size).toBe(3);
    expect(cache.evictions).toBe(1);
  });

  it('never holds more than maxEntries, however keys come and go', () => {
    const cache = new DnsCache({ maxEntries: 100 });
    for (let i = 0; i < 5000; i++) {
      cache.put(`k${i % 700}`, answer({ ttls: [300] }), i);
      if (i % 3 === 0) cache.get(`k${(i * 7) % 700}`, i);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
  });

  it('keeps nothing with maxEntries 0, and rejects nonsense options', () => {
    const cache = new DnsCache({ maxEntries: 0 });
    cache.put('k', answer({ ttls: [300] }), 0);
    expect(cache.get('k', 0)).toBeUndefined();
    expect(() => new DnsCache({ maxTtl: -1 })).toThrow(/maxTtl/);
  });
});
