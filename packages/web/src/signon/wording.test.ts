import { describe, expect, it } from 'vitest';
import { translate, type Language, type Translate } from '../i18n';
import { describeScopes, formatDuration, mfaAgeNotice, mfaAgeText } from './wording';

const tr =
  (language: Language): Translate =>
  (key, params) =>
    translate(language, key, params);
const t = tr('en');

describe('what an application receives', () => {
  it('tells each scope asked once, in the order asked, and names an unknown one alone', () => {
    const lines = describeScopes(['openid', 'rempart', 'mail', 'rempart', 'x-custom'], t);
    expect(lines.map((line) => line.scope)).toEqual(['openid', 'rempart', 'mail', 'x-custom']);
    expect(lines[1]?.text).toMatch(/unit, role and clearance/);
    expect(lines[2]?.text).toMatch(/mailbox/);
    expect(lines[3]?.text).toBeUndefined();
  });

  it('tells each known scope in every language', () => {
    for (const language of ['en', 'fr', 'nl'] as const) {
      const lines = describeScopes(
        ['openid', 'profile', 'email', 'rempart', 'mail', 'offline_access'],
        tr(language),
      );
      expect(lines.every((line) => line.text !== undefined && line.text !== '')).toBe(true);
    }
  });
});

describe('how recent a second-factor check an application demands', () => {
  it('says a fresh check at every sign-in for 0, and nothing to the agent when there is no limit', () => {
    expect(mfaAgeText(0, t, 'en')).toBe('A fresh second-factor check at every sign-in');
    expect(mfaAgeText(null, t, 'en')).toBe('A Rempart sign-in is enough');
    expect(mfaAgeNotice(null, 'Intranet', t, 'en')).toBeUndefined();
    expect(mfaAgeNotice(0, 'Intranet', t, 'en')).toBe(
      'Intranet asks for a fresh check of your second factor at every sign-in.',
    );
  });

  it('counts a limit in the largest whole unit, in the reader’s language', () => {
    expect(formatDuration(300, 'en')).toBe('5 minutes');
    expect(formatDuration(8 * 3600, 'en')).toBe('8 hours');
    // French puts a no-break space between a number and its unit.
    expect(formatDuration(3600, 'fr')).toMatch(/^1\s+heure$/);
    expect(formatDuration(90, 'nl')).toBe('90 seconden');
    expect(mfaAgeText(900, t, 'en')).toBe('A second-factor check in the last 15 minutes');
  });
});
