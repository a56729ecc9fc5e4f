import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACR_MFA, ACR_PHISHING_RESISTANT, acrFor, agentClaims, amrFor, effectiveMaxAge } from './claims.js';
import type { AgentRow } from '../identity.repository.js';

describe('amr and acr', () => {
  it('state the second factor by its RFC 8176 names', () => {
    expect(amrFor('totp')).toEqual(['pwd', 'otp', 'mfa']);
    expect(amrFor('webauthn')).toEqual(['pwd', 'hwk', 'mfa']);
    expect(amrFor('passkey')).toEqual(['hwk', 'user', 'mfa']);
    expect(amrFor('recovery')).toContain('mfa');
    expect(acrFor('totp')).toBe(ACR_MFA);
    expect(acrFor('recovery')).toBe(ACR_MFA);
    expect(acrFor('webauthn')).toBe(ACR_PHISHING_RESISTANT);
    expect(acrFor('passkey')).toBe(ACR_PHISHING_RESISTANT);
  });
});

describe('effectiveMaxAge', () => {
  it('is the stricter of the client and the request, null when neither limits', () => {
    expect(effectiveMaxAge(null, undefined)).toBeNull();
    expect(effectiveMaxAge(300, undefined)).toBe(300);
    expect(effectiveMaxAge(null, 60)).toBe(60);
    // A relying party cannot loosen the administrator's limit by asking for a longer max_age.
    expect(effectiveMaxAge(0, 3600)).toBe(0);
    fc.assert(
      fc.property(
        fc.option(fc.nat(), { nil: null }),
        fc.option(fc.nat(), { nil: undefined }),
        (client, asked) => {
          const result = effectiveMaxAge(client, asked);
          if (client !== null) expect(result).toBeLessThanOrEqual(client);
          if (asked !== undefined) expect(result).toBeLessThanOrEqual(asked);
          expect(result === null).toBe(client === null && asked === undefined);
        },
      ),
    );
  });
});

describe('agentClaims', () => {
  it('gives the agent id as subject, never the email, and the unit, role and clearance', () => {
    const agent = {
      id: '6c1f0a0e-0000-4000-8000-000000000001',
      email: 'julie@defense.gouv.fr',
      displayName: 'Julie',
      unit: 'DGA',
      role: 'host',
      clearance: 'secret',
    } as AgentRow;
    expect(agentClaims(agent)).toMatchObject({
      sub: agent.id,
      unit: 'DGA',
      role: 'host',
      clearance: 'secret',
    });
  });
});
