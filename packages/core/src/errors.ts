/**
 * One error hierarchy for every module. Only the HTTP/WebSocket edge turns a
 * `RempartError` into a response; clients see `{ error: { code, message } }` and
 * never a stack trace.
 *
 * @example
 *   throw IdentityError.invalidCredentials();
 *   // → HTTP 401 { "error": { "code": "invalid_credentials", "message": "..." } }
 */

/** Every stable error code a client may see. Codes are API: never rename one. */
export const errorCodes = {
  // request shape
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  // authentication and authorisation
  unauthenticated: 401,
  invalid_credentials: 401,
  too_many_attempts: 429,
  csrf_failed: 403,
  forbidden: 403,
  enrolment_required: 403,
  mfa_required: 403,
  step_up_required: 403,
  // enrolment and factors
  enrolment_invalid: 410,
  weak_password: 400,
  common_password: 400,
  totp_invalid: 400,
  totp_reused: 400,
  webauthn_failed: 400,
  last_factor: 409,
  recovery_invalid: 400,
  // one sign-in: OpenID Connect and mail servers
  interaction_invalid: 410,
  mail_auth_failed: 401,
  mail_auth_throttled: 429,
  mail_gateway_token_invalid: 401,
  mail_gateway_off: 404,
  // meetings
  e2ee_required: 400,
  // leak check
  image_unreadable: 422,
  image_too_large: 413,
  // network guard
  dns_message_invalid: 400,
  list_empty: 422,
  device_token_invalid: 401,
  replica_token_invalid: 401,
  replicas_off: 404,
  // spyware check: the fleet
  owner_unknown: 404,
  consent_required: 409,
  consent_owner_only: 403,
  consent_form_invalid: 400,
  artifact_invalid: 400,
  // spyware check: encrypted iOS backups
  backup_encrypted: 400,
  backup_password_wrong: 400,
  // Server watch
  watch_ingest_off: 404,
  watch_token_invalid: 401,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorCodes;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export interface RempartErrorOptions {
  cause?: unknown;
  /** Extra, client-safe information (e.g. which fields failed validation). */
  details?: unknown;
  /** Whether the error means a bug or an outage worth logging at error level. */
  reportable?: boolean;
}

export class RempartError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly reportable: boolean;

  constructor(code: ErrorCode, message: string, options: RempartErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RempartError';
    this.code = code;
    this.status = errorCodes[code];
    this.details = options.details;
    this.reportable = options.reportable ?? this.status >= 500;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  static badRequest(message: string, details?: unknown): RempartError {
    return new RempartError('bad_request', message, { details });
  }
  /** A well-formed request the domain rules refuse (an end before the start, an unknown invitee…). */
  static validation(message: string, details?: unknown): RempartError {
    return new RempartError('validation_failed', message, { details });
  }
  static notFound(what = 'resource'): RempartError {
    return new RempartError('not_found', `No such ${what}.`);
  }
  static conflict(message: string): RempartError {
    return new RempartError('conflict', message);
  }
  static forbidden(message = 'You are not allowed to do this.'): RempartError {
    return new RempartError('forbidden', message);
  }
  static internal(cause?: unknown): RempartError {
    return new RempartError('internal_error', 'Something went wrong on the server.', {
      cause,
      reportable: true,
    });
  }
}

/** Errors of the identity service. */
export class IdentityError extends RempartError {
  /** One message whatever was wrong: no account enumeration. */
  static invalidCredentials(): IdentityError {
    return new IdentityError('invalid_credentials', 'Sign-in failed. Check what you entered and try again.');
  }
  static tooManyAttempts(retryAfterSeconds: number): IdentityError {
    return new IdentityError('too_many_attempts', 'Too many attempts. Wait before trying again.', {
      details: { retryAfterSeconds },
    });
  }
  static unauthenticated(): IdentityError {
    return new IdentityError('unauthenticated', 'Sign in first.');
  }
  static enrolmentRequired(): IdentityError {
    return new IdentityError('enrolment_required', 'Enrol a second factor before doing anything else.');
  }
  static mfaRequired(): IdentityError {
    return new IdentityError('mfa_required', 'Complete the second step of sign-in first.');
  }
  static stepUpRequired(maxAgeSeconds: number): IdentityError {
    return new IdentityError('step_up_required', 'Confirm your identity with your second factor again.', {
      details: { maxAgeSeconds },
    });
  }
  static csrf(): IdentityError {
    return new IdentityError('csrf_failed', 'The request did not carry a valid anti-forgery token.');
  }
  static enrolmentInvalid(): IdentityError {
    return new IdentityError('enrolment_invalid', 'This enrolment link is invalid, used or expired.');
  }
  static weakPassword(minLength: number): IdentityError {
    return new IdentityError('weak_password', `A password needs at least ${minLength} characters.`, {
      details: { minLength },
    });
  }
  static commonPassword(): IdentityError {
    return new IdentityError('common_password', 'This password is too common. Choose another one.');
  }
  static totpInvalid(): IdentityError {
    return new IdentityError('totp_invalid', 'The code is not valid.');
  }
  static totpReused(): IdentityError {
    return new IdentityError('totp_reused', 'This code was already used. Wait for the next one.');
  }
  static webauthnFailed(reason?: string): IdentityError {
    return new IdentityError('webauthn_failed', 'The security key or passkey could not be verified.', {
      details: reason === undefined ? undefined : { reason },
    });
  }
  static lastFactor(): IdentityError {
    return new IdentityError('last_factor', 'You cannot remove your last second factor.');
  }
  static recoveryInvalid(): IdentityError {
    return new IdentityError('recovery_invalid', 'The recovery code is not valid.');
  }
  static interactionInvalid(): IdentityError {
    return new IdentityError(
      'interaction_invalid',
      'This sign-in request has expired. Start again from the application.',
    );
  }
  /** One answer whatever was wrong (user, secret, expiry, revocation): no enumeration. */
  static mailAuthFailed(): IdentityError {
    return new IdentityError('mail_auth_failed', 'Mail login refused.');
  }
  static mailAuthThrottled(retryAfterSeconds: number): IdentityError {
    return new IdentityError('mail_auth_throttled', 'Too many failed mail logins from this address.', {
      details: { retryAfterSeconds },
    });
  }
  static mailGatewayTokenInvalid(): IdentityError {
    return new IdentityError('mail_gateway_token_invalid', 'This mail server is not allowed to ask.');
  }
}

export function isRempartError(error: unknown): error is RempartError {
  return error instanceof RempartError;
}
