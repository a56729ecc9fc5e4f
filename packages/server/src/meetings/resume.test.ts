import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyRing } from '../identity/secrets.js';
import { RESUME_TOKEN_TTL_MS } from '@rempart/core';
import { ResumeTokens, resumeHolder } from './resume.js';

const now = new Date('2026-11-22T10:00:00Z');
const presence = () => ({
  meetingId: randomUUID(),
  participantId: randomUUID(),
  holder: resumeHolder({ sessionId: randomUUID() }),
});

describe('resume tokens', () => {
  it('give back the presence they were issued for, until they expire', () => {
    const tokens = new ResumeTokens(new KeyRing(randomBytes(32)));
    const claims = presence();
    const token = tokens.issue(claims, now);
    expect(tokens.check(token, new Date(now.getTime() + RESUME_TOKEN_TTL_MS - 1))).toEqual({
      ok: true,
      claims: { ...claims, expiresAt: now.getTime() + RESUME_TOKEN_TTL_MS },
    });
    expect(tokens.check(token, new Date(now.getTime() + RESUME_TOKEN_TTL_MS))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('survive a restart with the same master key, and are worth nothing under another', () => {
    const master = randomBytes(32);
    const token = new ResumeTokens(new KeyRing(master)).issue(presence(), now);
    expect(new ResumeTokens(new KeyRing(Buffer.from(master))).check(token, now).ok).toBe(true);
    expect(new ResumeTokens(new KeyRing(randomBytes(32))).check(token, now)).toEqual({
      ok: false,
      reason: 'forged',
    });
  });

  it('refuse claims changed after signing (another participant, a later expiry)', () => {
    const tokens = new ResumeTokens(new KeyRing(randomBytes(32)));
    const token = tokens.issue(presence(), now);
    const [encoded, tag] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(encoded, 'base64url').toString()) as Record<string, unknown>;
    for (const change of [{ p: randomUUID() }, { x: now.getTime() + 10 * RESUME_TOKEN_TTL_MS }]) {
      const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url');
      expect(tokens.check(`${forged}.${tag}`, now)).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('never throw on arbitrary input, and accept nothing they did not issue', () => {
    const tokens = new ResumeTokens(new KeyRing(randomBytes(32)));
    const real = tokens.issue(presence(), now);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 600 }),
          fc.tuple(fc.base64String(), fc.base64String()).map(([a, b]) => `${a}.${b}`),
          // One character of a real token changed.
          fc
            .tuple(fc.nat(real.length - 1), fc.constantFrom(...'ABCxyz019-_.'))
            .map(([i, c]) => real.slice(0, i) + c + real.slice(i + 1)),
        ),
        (token) => {
          const result = tokens.check(token, now);
          if (token !== real) expect(result.ok).toBe(false);
        },
      ),
    );
  });
});
