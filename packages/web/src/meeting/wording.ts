/**
 * Which message explains an admission decision: to the person refused, in a full sentence,
 * and to the hosts who hear of an attempt, in a short one.
 */
import type { AdmissionOutcome, AttemptPerson, RefusalReason, SignalErrorCode } from '@rempart/core';
import type { MessageKey } from '../messages/en';

/** The sentence a refused person reads, e.g. "Your clearance is below this meeting's classification." */
export function refusalKey(reason: RefusalReason | null): MessageKey {
  return reason === null ? 'room.reason.unknown' : `room.reason.${reason}`;
}

/** What hosts read of an attempt: "{who} tried to join — refused: {reason}", "{who} is waiting…". */
export function attemptKey(outcome: AdmissionOutcome): MessageKey {
  return `room.attempt.${outcome}`;
}

/** The short reason inside an attempt notice, e.g. "not invited". */
export function attemptReasonKey(reason: RefusalReason | null): MessageKey {
  return reason === null ? 'room.attemptReason.unknown' : `room.attemptReason.${reason}`;
}

export function signalErrorKey(code: SignalErrorCode): MessageKey {
  return `room.signalError.${code}`;
}

/**
 * Who tried to join, in the reader's language, e.g. "Lucas Bernard (lucas.bernard@…, DGSI)",
 * "GUEST Ann Smith (ann@…)" or "someone not signed in (203.0.113.9)".
 */
export function attemptWho(person: AttemptPerson): { key: MessageKey; values: Record<string, string> } {
  switch (person.kind) {
    case 'agent':
      return person.unit === ''
        ? { key: 'room.who.agent', values: { name: person.displayName, email: person.email } }
        : {
            key: 'room.who.agentUnit',
            values: { name: person.displayName, email: person.email, unit: person.unit },
          };
    case 'guest':
      return { key: 'room.who.guest', values: { name: person.displayName, email: person.email } };
    case 'signed_out':
      return { key: 'room.who.signedOut', values: { ip: person.ip } };
  }
}
