import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearerMatches, KeyRing, randomToken } from './secrets.js';

describe('secrets', () => {
  it('makes 256-bit tokens', () => {
    const token = randomToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(randomToken()).not.toBe(token);
  });

  it('seals and opens, and refuses a tampered or foreign value', () => {
    const ring = new KeyRing(randomBytes(32));
    const sealed = ring.seal('JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(ring.open(sealed)).toBe('JBSWY3DPEHPK3PXP');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[2] ?? '', 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    parts[2] = flipped.toString('base64url');
    expect(() => ring.open(parts.join('.'))).toThrow();
    expect(() => new KeyRing(randomBytes(32)).open(sealed)).toThrow();
  });

  it('binds anti-forgery tokens to one session and one key', () => {
    const ring = new KeyRing(randomBytes(32));
    expect(ring.csrfToken('s1')).toBe(ring.csrfToken('s1'));
    expect(ring.csrfToken('s1')).not.toBe(ring.csrfToken('s2'));
    expect(new KeyRing(randomBytes(32)).csrfToken('s1')).not.toBe(ring.csrfToken('s1'));
  });
});

describe('bearerMatches', () => {
  it('takes only `Bearer <the token>`', () => {
    const token = 'a-token-of-thirty-two-characters-0';
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    for (const header of [
      undefined,
      '',
      token,
      `bearer ${token}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(1)}`,
      `Basic ${token}`,
      `Bearer  ${token}`,
    ])
      expect(bearerMatches(header, token), String(header)).toBe(false);
  });
});
