/**
 * How the console words single sign-on: what an application receives for the scopes it asks,
 * and how recent a second-factor check it demands.
 */
import type { MessageKey, Translate } from '../i18n';

/** What each scope gives the application, as the agent reads it before signing in. */
const scopeKeys: Readonly<Record<string, MessageKey>> = {
  openid: 'signOn.scope.openid',
  profile: 'signOn.scope.profile',
  email: 'signOn.scope.email',
  rempart: 'signOn.scope.rempart',
  mail: 'signOn.scope.mail',
  offline_access: 'signOn.scope.offline_access',
};

export interface ScopeLine {
  scope: string;
  /** Undefined for a scope the console does not know: the page shows its name alone. */
  text: string | undefined;
}

/**
 * One line per scope asked, in the order asked, each once.
 *
 * @example
 *   describeScopes(['openid', 'email', 'email', 'custom'], t)
 *   // → [{ scope: 'openid', text: 'An identifier …' }, { scope: 'email', text: 'Your email address' },
 *   //    { scope: 'custom', text: undefined }]
 */
export function describeScopes(scopes: readonly string[], t: Translate): ScopeLine[] {
  return [...new Set(scopes)].map((scope) => {
    const key = Object.hasOwn(scopeKeys, scope) ? scopeKeys[scope] : undefined;
    return { scope, text: key === undefined ? undefined : t(key) };
  });
}

/**
 * A number of seconds in the largest whole unit (hours, minutes, seconds), in the reader's
 * language with its plural: "8 hours", "5 minutes", "1 heure".
 */
export function formatDuration(seconds: number, language: string): string {
  const [value, unit] =
    seconds > 0 && seconds % 3600 === 0
      ? [seconds / 3600, 'hour']
      : seconds > 0 && seconds % 60 === 0
        ? [seconds / 60, 'minute']
        : [seconds, 'second'];
  return new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

/**
 * What a client's MFA max age demands, for the administrator's list and form.
 *
 * @example
 *   mfaAgeText(null, t, 'en') // → 'A Rempart sign-in is enough'
 *   mfaAgeText(0, t, 'en')    // → 'A fresh second-factor check at every sign-in'
 *   mfaAgeText(300, t, 'en')  // → 'A second-factor check in the last 5 minutes'
 */
export function mfaAgeText(seconds: number | null, t: Translate, language: string): string {
  if (seconds === null) return t('applications.mfa.none');
  if (seconds === 0) return t('applications.mfa.every');
  return t('applications.mfa.within', { duration: formatDuration(seconds, language) });
}

/** The same demand told to the agent signing in, naming the application; undefined when there is none. */
export function mfaAgeNotice(
  seconds: number | null,
  client: string,
  t: Translate,
  language: string,
): string | undefined {
  if (seconds === null) return undefined;
  if (seconds === 0) return t('signOn.mfaEvery', { client });
  return t('signOn.mfaWithin', { client, duration: formatDuration(seconds, language) });
}

/** The choices the registration form offers for the MFA max age, in seconds; null: no limit. */
export const mfaAgeChoices: readonly (number | null)[] = [null, 0, 300, 900, 3600, 8 * 3600, 12 * 3600];
