/**
 * TOTP (RFC 6238) with a ±1 time-step window and replay refusal: a code whose
 * time step is not after the last accepted one is refused (RFC 6238 §5.2).
 */
import { generate, generateSecret, generateURI, verify } from 'otplib';

const PERIOD = 30;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, accountName: string, issuer = 'Rempart'): string {
  return generateURI({ issuer, label: accountName, secret, period: PERIOD, digits: 6, algorithm: 'sha1' });
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'reused' };

export async function checkTotp(
  secret: string,
  code: string,
  now: Date,
  lastStep: number | null,
): Promise<TotpCheck> {
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    period: PERIOD,
    // ±1 step: the previous, current and next 30-second windows (RFC 6238 §5.2 recommends at most one).
    epochTolerance: PERIOD,
  });
  if (!result.valid || !('timeStep' in result)) return { ok: false, reason: 'invalid' };
  if (lastStep !== null && result.timeStep <= lastStep) return { ok: false, reason: 'reused' };
  return { ok: true, step: result.timeStep };
}

/** The code an authenticator app shows at `at` (tests and benchmarks compute codes with it). */
export function totpCodeAt(secret: string, at: Date): Promise<string> {
  return generate({ secret, epoch: Math.floor(at.getTime() / 1000), period: PERIOD });
}
