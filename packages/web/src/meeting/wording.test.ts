import { AdmissionOutcome, refusalReasons, signalErrorCodes } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { isMessageKey } from '../i18n';
import { en } from '../messages/en';
import { fr } from '../messages/fr';
import { attemptKey, attemptReasonKey, attemptWho, refusalKey, signalErrorKey } from './wording';

describe('what a refused person and the hosts read', () => {
  it('explains every refusal reason the server can give, in a sentence of its own', () => {
    const keys = refusalReasons.map(refusalKey);
    for (const key of keys) expect(isMessageKey(key)).toBe(true);
    expect(new Set(keys.map((key) => en[key])).size).toBe(refusalReasons.length);
    expect(en[refusalKey('clearance')]).toBe('Your clearance is below this meeting’s classification.');
    expect(en[refusalKey('locked')]).toMatch(/^This meeting is locked/);
  });

  it('still says something when the server gave no reason', () => {
    expect(isMessageKey(refusalKey(null))).toBe(true);
    expect(isMessageKey(attemptReasonKey(null))).toBe(true);
  });

  it('tells hosts who tried to join and what came of it', () => {
    for (const outcome of AdmissionOutcome.options) {
      expect(isMessageKey(attemptKey(outcome))).toBe(true);
      expect(en[attemptKey(outcome)]).toContain('{who}');
    }
    expect(en[attemptKey('refuse')]).toContain('{reason}');
    for (const reason of refusalReasons) expect(isMessageKey(attemptReasonKey(reason))).toBe(true);
  });

  it('names who tried in the reader’s language, with every value the server verified', () => {
    const fill = (lang: Record<string, string>, who: ReturnType<typeof attemptWho>) =>
      Object.entries(who.values).reduce((text, [k, v]) => text.replace(`{${k}}`, v), lang[who.key] ?? '');
    const agent = attemptWho({ kind: 'agent', displayName: 'Lucas Bernard', email: 'l@b.fr', unit: 'DGSI' });
    expect(fill(en, agent)).toBe('Lucas Bernard (l@b.fr, DGSI)');
    expect(fill(en, attemptWho({ kind: 'agent', displayName: 'Lucas', email: 'l@b.fr', unit: '' }))).toBe(
      'Lucas (l@b.fr)',
    );
    const guest = attemptWho({ kind: 'guest', displayName: 'Ann Smith', email: 'ann@example.org' });
    expect(fill(en, guest)).toBe('GUEST Ann Smith (ann@example.org)');
    expect(fill(fr, guest)).toBe('EXTERNE Ann Smith (ann@example.org)');
    const nobody = attemptWho({ kind: 'signed_out', ip: '203.0.113.9' });
    expect(fill(fr, nobody)).toBe('une personne non connectée (203.0.113.9)');
  });

  it('words every signalling error', () => {
    for (const code of signalErrorCodes) expect(isMessageKey(signalErrorKey(code))).toBe(true);
  });
});
