/** Turns any failure into one sentence in the reader's language. */
import { PASSWORD_MIN_LENGTH } from '@rempart/core';
import { ApiError, minLength, retryAfterSeconds } from './api';
import { isMessageKey, type Translate } from './i18n';

/**
 * The translation of the error's code when the console has one, else the server's own message.
 *
 * @example
 *   errorMessage(new ApiError(401, 'invalid_credentials', '…'), t) // → "Sign-in failed. …"
 */
export function errorMessage(error: unknown, t: Translate): string {
  if (!(error instanceof ApiError)) return t('error.unexpected');
  switch (error.code) {
    case 'too_many_attempts': {
      const seconds = retryAfterSeconds(error);
      return seconds === undefined
        ? t('error.too_many_attempts')
        : t('error.too_many_attempts_wait', { seconds: Math.ceil(seconds) });
    }
    case 'weak_password':
      return t('error.weak_password', { min: minLength(error) ?? PASSWORD_MIN_LENGTH });
    default: {
      const key = `error.${error.code}`;
      if (isMessageKey(key)) return t(key);
      return error.message === '' ? t('error.unexpected') : error.message;
    }
  }
}

/** Failures the console reports by moving elsewhere rather than with a message. */
export function isSilent(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.code === 'unauthenticated' || error.code === 'enrolment_required' || error.code === 'mfa_required')
  );
}
