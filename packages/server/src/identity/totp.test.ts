import { describe, expect, it } from 'vitest';
import { checkTotp, newTotpSecret, totpCodeAt, totpUri } from './totp.js';

// RFC 6238 Appendix B test secret ("12345678901234567890" in base32), SHA-1, 6 digits.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP', () => {
  it('matches the RFC 6238 test vectors (last 6 digits)', async () => {
    expect(await totpCodeAt(RFC_SECRET, new Date(59_000))).toBe('287082');
    expect(await totpCodeAt(RFC_SECRET, new Date(1_111_111_109_000))).toBe('081804');
    expect(await totpCodeAt(RFC_SECRET, new Date(1_234_567_890_000))).toBe('005924');
  });

  it('accepts ±1 step and refuses ±2', async () => {
    const now = new Date(1_234_567_890_000);
    const step = Math.floor(now.getTime() / 30_000);
    for (const [offset, ok] of [
      [-2, false],
      [-1, true],
      [0, true],
      [1, true],
      [2, false],
    ] as const) {
      const code = await totpCodeAt(RFC_SECRET, new Date(now.getTime() + offset * 30_000));
      const result = await checkTotp(RFC_SECRET, code, now, null);
      expect(result.ok).toBe(ok);
      if (result.ok) expect(result.step).toBe(step + offset);
    }
  });

  it('refuses a code whose step is not after the last accepted one', async () => {
    const now = new Date(1_700_000_000_000);
    const code = await totpCodeAt(RFC_SECRET, now);
    const first = await checkTotp(RFC_SECRET, code, now, null);
    expect(first.ok).toBe(true);
    const step = first.ok ? first.step : 0;
    expect(await checkTotp(RFC_SECRET, code, now, step)).toEqual({ ok: false, reason: 'reused' });
    const earlier = await totpCodeAt(RFC_SECRET, new Date(now.getTime() - 30_000));
    expect(await checkTotp(RFC_SECRET, earlier, now, step)).toEqual({ ok: false, reason: 'reused' });
  });

  it('makes 160-bit secrets and an otpauth URI apps can scan', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(totpUri(secret, 'claire@x.gouv.fr'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Rempart');
  });
});
