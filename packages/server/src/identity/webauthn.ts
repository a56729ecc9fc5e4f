/**
 * WebAuthn ceremonies (W3C Web Authentication Level 3) through @simplewebauthn/server.
 * Passkeys used alone must verify the user (UV); as a second factor presence is enough.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';

export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export interface StoredCredential {
  id: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
}

export function relyingPartyFor(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: 'Rempart', origin: url.origin };
}

export async function registrationOptions(
  rp: RelyingParty,
  user: { id: Uint8Array; email: string; displayName: string },
  existing: StoredCredential[],
) {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: new Uint8Array(user.id),
    userName: user.email,
    userDisplayName: user.displayName,
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({
      id: c.id,
      transports: c.transports as AuthenticatorTransport[],
    })),
    // Discoverable credentials allow sign-in with the passkey alone.
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
): Promise<StoredCredential | undefined> {
  const result = await verifyRegistrationResponse({
    response,
    expectedChallenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: false,
  });
  if (!result.verified) return undefined;
  const c = result.registrationInfo.credential;
  return { id: c.id, publicKey: c.publicKey, counter: c.counter, transports: c.transports ?? [] };
}

export async function authenticationOptions(rp: RelyingParty, allow: StoredCredential[] | 'discoverable') {
  return generateAuthenticationOptions({
    rpID: rp.id,
    allowCredentials:
      allow === 'discoverable'
        ? []
        : allow.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransport[] })),
    userVerification: allow === 'discoverable' ? 'required' : 'preferred',
  });
}

export async function verifyAuthentication(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  credential: StoredCredential,
  requireUserVerification: boolean,
): Promise<{ newCounter: number } | undefined> {
  const result = await verifyAuthenticationResponse({
    response,
    expectedChallenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    credential: {
      id: credential.id,
      publicKey: new Uint8Array(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports,
    },
    requireUserVerification,
  });
  return result.verified ? { newCounter: result.authenticationInfo.newCounter } : undefined;
}

export type { AuthenticationResponseJSON, RegistrationResponseJSON };
