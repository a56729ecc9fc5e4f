import { AdmissionOutcome, refusalReasons, signalErrorCodes } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { isMessageKey } from '../i18n';
import { en } from '../messages/en';
import { attemptKey, attemptReasonKey, refusalKey, signalErrorKey } from './wording';

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

  it('words every signalling error', () => {
    for (const code of signalErrorCodes) expect(isMessageKey(signalErrorKey(code))).toBe(true);
  });
});
