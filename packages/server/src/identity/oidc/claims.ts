/**
 * What an ID token says about an agent and how they proved who they are. Pure functions: the
 * provider's configuration calls them.
 */
import type { AgentRow, SessionRow } from '../identity.repository.js';

/** Authentication context classes: a second factor, or a phishing-resistant one (WebAuthn). */
export const ACR_MFA = 'urn:rempart:acr:mfa';
export const ACR_PHISHING_RESISTANT = 'urn:rempart:acr:phishing-resistant';
export const acrValues = [ACR_MFA, ACR_PHISHING_RESISTANT];

/** Claims released per scope; `rempart` carries the agent's place in the institution. */
export const scopeClaims = {
  // How the agent signed in goes in every ID token, not only when a client asks for it by name.
  openid: ['sub', 'acr', 'amr'],
  // Claims a client may also ask for with the `claims` parameter alone.
  auth_time: null,
  iss: null,
  sid: null,
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username'],
  rempart: ['unit', 'role', 'clearance'],
};

type MfaMethod = NonNullable<SessionRow['mfaMethod']>;

/**
 * `amr` values (RFC 8176) for a session's methods: a password then TOTP is `pwd otp mfa`; a passkey
 * alone is `hwk user mfa` (the key checked the user's PIN or biometrics); a recovery code counts
 * as a one-time password.
 */
export function amrFor(method: MfaMethod): string[] {
  switch (method) {
    case 'totp':
    case 'recovery':
      return ['pwd', 'otp', 'mfa'];
    case 'webauthn':
      return ['pwd', 'hwk', 'mfa'];
    case 'passkey':
      return ['hwk', 'user', 'mfa'];
  }
}

export function acrFor(method: MfaMethod): string {
  return method === 'webauthn' || method === 'passkey' ? ACR_PHISHING_RESISTANT : ACR_MFA;
}

/** Every claim Rempart can state about an agent; the provider keeps those the scopes allow. */
export function agentClaims(agent: AgentRow): Record<string, unknown> {
  return {
    sub: agent.id,
    email: agent.email,
    email_verified: true,
    name: agent.displayName,
    preferred_username: agent.email,
    unit: agent.unit,
    role: agent.role,
    clearance: agent.clearance,
  };
}

/**
 * The oldest MFA check a sign-in accepts, in seconds: the stricter of the client's own limit and
 * the request's `max_age`; null when neither sets one.
 */
export function effectiveMaxAge(clientMax: number | null, requested: number | undefined): number | null {
  const limits = [clientMax, requested].filter((v): v is number => typeof v === 'number' && v >= 0);
  return limits.length === 0 ? null : Math.min(...limits);
}
