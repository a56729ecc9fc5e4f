import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidrSet, clientKey, ClientRateLimiter } from './rate-limit.js';

function limiter(options: Partial<ConstructorParameters<typeof ClientRateLimiter>[0]> = {}) {
  let now = 0;
  const l = new ClientRateLimiter({ qps: 10, burst: 5, ...options }, () => now);
  return { l, advance: (ms: number) => (now += ms) };
}

const allowedOf = (l: ClientRateLimiter, client: string, n: number) =>
  Array.from({ length: n }, () => l.allow(client)).filter(Boolean).length;

describe('per-client rate limits', () => {
  it('lets a burst through, then qps per second', () => {
    const { l, advance } = limiter();
    expect(allowedOf(l, '192.0.2.1', 20)).toBe(5);
    advance(1000);
    expect(allowedOf(l, '192.0.2.1', 20)).toBe(5); // 10 tokens earned, the bucket holds 5
    advance(300);
    expect(allowedOf(l, '192.0.2.1', 20)).toBe(3);
    expect(l.refused).toBe(15 + 15 + 17);
  });

  it('limits each client on its own', () => {
    const { l } = limiter();
    expect(allowedOf(l, '192.0.2.1', 10)).toBe(5);
    expect(allowedOf(l, '192.0.2.2', 10)).toBe(5);
  });

  it('never limits a client in a trusted range, IPv4 or IPv6', () => {
    const { l } = limiter({ trusted: ['10.0.0.0/8', '2001:db8:aa::/48'] });
    expect(allowedOf(l, '10.20.30.40', 100)).toBe(100);
    expect(allowedOf(l, '::ffff:10.1.1.1', 100)).toBe(100);
    expect(allowedOf(l, '2001:db8:aa:1::9', 100)).toBe(100);
    expect(allowedOf(l, '2001:db8:ab::9', 100)).toBe(5);
    expect(allowedOf(l, '11.0.0.1', 100)).toBe(5);
  });

  it('counts IPv6 clients by their /64, so rotating addresses does not multiply the share', () => {
    const { l } = limiter();
    const sent = Array.from({ length: 20 }, (_, i) => l.allow(`2001:db8:1:2::${i + 1}`)).filter(
      Boolean,
    ).length;
    expect(sent).toBe(5);
    expect(clientKey('2001:db8:1:2:ffff::1')).toBe(clientKey('2001:0db8:0001:0002::7'));
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
  });

  it('tracks at most maxClients, keeping a busy client’s empty bucket through a flood of new sources', () => {
    const { l } = limiter({ maxClients: 50 });
    expect(allowedOf(l, '192.0.2.1', 10)).toBe(5);
    for (let i = 0; i < 1000; i++) {
      l.allow(`198.51.100.${i % 250}`);
      if (i % 10 === 0) expect(l.allow('192.0.2.1')).toBe(false);
      expect(l.size).toBeLessThanOrEqual(50);
    }
  });

  it('never allows more than burst + qps × elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }),
        (qps, burst, gaps) => {
          const { l, advance } = limiter({ qps, burst });
          let allowed = 0;
          let elapsed = 0;
          for (const gap of gaps) {
            advance(gap);
            elapsed += gap;
            if (l.allow('192.0.2.9')) allowed++;
          }
          expect(allowed).toBeLessThanOrEqual(burst + (qps * elapsed) / 1000 + 1e-9);
        },
      ),
    );
  });

  it('rejects invalid trusted ranges, naming them', () => {
    expect(() => new CidrSet(['10.0.0.0/8', '10.0.0.0/33', 'nonsense'])).toThrow(/10\.0\.0\.0\/33, nonsense/);
    expect(new CidrSet(['192.0.2.7']).has('192.0.2.7')).toBe(true);
    expect(new CidrSet(['::/0']).has('2001:db8::1')).toBe(true);
    expect(new CidrSet(['::/0']).has('192.0.2.1')).toBe(false);
  });
});
