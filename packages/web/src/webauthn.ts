/**
 * Passkeys and security keys (WebAuthn Level 3) through @simplewebauthn/browser. The server
 * produces the options and checks the answers; this module only carries them to the
 * authenticator and turns the browser's failures into `ApiError`s the console can explain.
 */
import type { SignInStepResponse } from '@rempart/core';
import {
  WebAuthnError,
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { ApiError, api } from './api';

function checkSupport(): void {
  if (!browserSupportsWebAuthn()) {
    throw new ApiError(0, 'webauthn_unsupported', 'This browser does not support passkeys.');
  }
}

/** The server's options are opaque JSON to the console; only their challenge is checked here. */
function hasChallenge(options: Record<string, unknown>): boolean {
  return typeof options['challenge'] === 'string';
}

function invalidOptions(): ApiError {
  return new ApiError(0, 'invalid_response', 'The server sent unusable passkey options.');
}

function browserFailure(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  if (error instanceof WebAuthnError) {
    if (error.code === 'ERROR_CEREMONY_ABORTED') {
      return new ApiError(0, 'webauthn_cancelled', error.message, undefined, error);
    }
    if (error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') {
      return new ApiError(0, 'webauthn_already_registered', error.message, undefined, error);
    }
    return new ApiError(0, 'webauthn_failed', error.message, undefined, error);
  }
  // The user closed the browser's prompt, or it timed out (WebAuthn §5.1.4.1 step 22: NotAllowedError).
  if (error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'AbortError')) {
    return new ApiError(0, 'webauthn_cancelled', error.message, undefined, error);
  }
  return error;
}

/**
 * Signs in or confirms identity with a passkey. Without a session this is a usernameless
 * sign-in; in the second step or when signed in, the server asks for that agent's keys.
 */
export async function authenticateWithPasskey(): Promise<SignInStepResponse> {
  checkSupport();
  const { challengeId, options } = await api.passkeySignInBegin();
  if (!hasChallenge(options)) throw invalidOptions();
  let response: unknown;
  try {
    response = await startAuthentication({
      optionsJSON: options as unknown as PublicKeyCredentialRequestOptionsJSON,
    });
  } catch (error) {
    throw browserFailure(error);
  }
  return api.passkeySignInFinish(challengeId, response);
}

/** Registers a new passkey or security key for the signed-in agent. */
export async function registerPasskey(label?: string) {
  checkSupport();
  const { challengeId, options } = await api.passkeyRegisterBegin();
  if (!hasChallenge(options)) throw invalidOptions();
  let response: unknown;
  try {
    response = await startRegistration({
      optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON,
    });
  } catch (error) {
    throw browserFailure(error);
  }
  return api.passkeyRegisterFinish(challengeId, response, label);
}
