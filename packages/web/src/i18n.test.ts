import { describe, expect, it } from 'vitest';
import { detectLanguage, dictionaries, interpolate, languages } from './i18n';
import { en } from './messages/en';

const placeholders = (text: string): string[] =>
  [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('console translations', () => {
  const reference = Object.keys(en).sort();

  it.each(languages)('%s has exactly the keys of the English dictionary', (language) => {
    expect(Object.keys(dictionaries[language]).sort()).toEqual(reference);
  });

  it('French in particular has exactly the English keys', () => {
    expect(Object.keys(dictionaries.fr).sort()).toEqual(Object.keys(dictionaries.en).sort());
  });

  it.each(languages)('%s has no empty translation', (language) => {
    const empty = Object.entries(dictionaries[language]).filter(([, text]) => text.trim() === '');
    expect(empty).toEqual([]);
  });

  it.each(languages)('%s uses the same placeholders as English in every message', (language) => {
    const dictionary = dictionaries[language];
    const different = reference.filter(
      (key) =>
        placeholders(dictionary[key as keyof typeof en]).join() !==
        placeholders(en[key as keyof typeof en]).join(),
    );
    expect(different).toEqual([]);
  });

  it('keeps the English names that browser tests look for', () => {
    expect(en['signIn.email']).toBe('Email');
    expect(en['signIn.password']).toBe('Password');
    expect(en['signIn.submit']).toBe('Sign in');
    expect(en['signIn.passkey']).toBe('Sign in with a passkey');
    expect(en['mfa.code']).toBe('Authentication code');
    expect(en['mfa.verify']).toBe('Verify');
    expect(en['mfa.useRecovery']).toBe('Use a recovery code');
    expect(en['enrolLink.newPassword']).toBe('New password');
    expect(en['enrolLink.confirmPassword']).toBe('Confirm password');
    expect(en['enrolLink.submit']).toBe('Set password');
    expect(en['enrol.totp']).toBe('Authenticator app');
    expect(en['enrol.passkey']).toBe('Passkey or security key');
    expect(en['totp.code']).toBe('Code from your app');
    expect(en['totp.confirm']).toBe('Confirm');
    expect(en['recovery.stored']).toBe('I have stored my recovery codes');
    expect(en['agents.inviteSubmit']).toBe('Invite agent');
    expect(en['agents.disable']).toBe('Disable');
    expect(en['agents.enable']).toBe('Enable');
    expect(en['agents.resetMfa']).toBe('Reset MFA');
    expect(en['agents.unlock']).toBe('Unlock');
    expect(en['alerts.acknowledge']).toBe('Acknowledge');
    expect(en['account.revoke']).toBe('Revoke');
    expect(en['account.addPasskey']).toBe('Add passkey');
    expect(en['account.addTotp']).toBe('Add authenticator app');
    expect(en['account.newRecovery']).toBe('New recovery codes');
    expect(en['schedule.title']).toBe('Title');
    expect(en['schedule.classification']).toBe('Classification');
    expect(en['schedule.start']).toBe('Start');
    expect(en['schedule.end']).toBe('End');
    expect(en['schedule.submit']).toBe('Schedule meeting');
    expect(en['guest.name']).toBe('Your name');
    expect(en['guest.email']).toBe('Email');
    expect(en['guest.code']).toBe('Code from the email');
    expect(en['room.chatInput']).toBe('Message');
    expect(en['room.guest']).toBe('GUEST');
  });
});

describe('language choice', () => {
  it('prefers the stored choice, then the first browser language spoken, then English', () => {
    expect(detectLanguage('nl', ['fr-FR'])).toBe('nl');
    expect(detectLanguage(null, ['de-DE', 'fr-BE', 'en'])).toBe('fr');
    expect(detectLanguage('xx', ['de'])).toBe('en');
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(interpolate('Welcome, {name}', { name: 'Alice' })).toBe('Welcome, Alice');
    expect(interpolate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });
});
