/**
 * Who gets into a meeting: one pure decision on the verified identity behind a request.
 * Every way in (HTTP check, signalling socket, media) goes through `decideAdmission`;
 * knowing the meeting's link or any identifier is never an input.
 *
 * Order matters and is the policy:
 *   1. the meeting must be open (not ended, inside its window);
 *   2. a person without an agent session is refused, or is a verified guest where allowed;
 *   3. clearance must reach the classification;
 *   4. restricted and secret meetings need an MFA check younger than 10 minutes (step-up);
 *   5. a participant a host removed, or a person a host denied, needs a host again;
 *   6. hosts and invitees (directly or through their unit) are admitted;
 *   7. a locked meeting admits invitees only: no lobby;
 *   8. a person a host let in from the lobby is admitted;
 *   9. everyone else waits in the lobby, or is refused when the lobby is off.
 *
 * @example
 *   decideAdmission({ meeting, person: { kind: 'anonymous' }, standing: 'none', now })
 *   // → { outcome: 'refuse', reason: 'unauthenticated' }
 */
import {
  clears,
  STEP_UP_MAX_AGE_SECONDS,
  type AdmissionOutcome,
  type Classification,
  type RefusalReason,
} from '@rempart/core';

/** Hosts may open a meeting this long before its start. */
export const EARLY_JOIN_MS = 15 * 60 * 1000;

export interface AdmissionMeeting {
  classification: Classification;
  startsAt: Date;
  endsAt: Date;
  endedAt: Date | null;
  locked: boolean;
  lobby: boolean;
  guests: boolean;
  hostIds: ReadonlySet<string>;
  inviteeIds: ReadonlySet<string>;
  invitedUnits: ReadonlySet<string>;
  /** How recent the MFA check must be for restricted and secret meetings (10 minutes at most). */
  stepUpSeconds: number;
}

export type AdmissionPerson =
  | { kind: 'anonymous' }
  /** An external guest whose email one-time code was checked. */
  | { kind: 'guest'; email: string }
  | { kind: 'agent'; id: string; unit: string; clearance: Classification; mfaAt: Date | null };

/** What hosts decided about this person in this meeting so far. */
export type Standing = 'none' | 'admitted' | 'denied' | 'removed';

export interface AdmissionInput {
  meeting: AdmissionMeeting;
  person: AdmissionPerson;
  standing: Standing;
  now: Date;
}

export type AdmissionDecision =
  | { outcome: Extract<AdmissionOutcome, 'admit' | 'lobby' | 'step_up'>; reason: null; invited: boolean }
  | { outcome: 'refuse'; reason: RefusalReason; invited: boolean };

/** Classifications whose meetings need a recent MFA check. */
export function needsStepUp(level: Classification): boolean {
  return level === 'restricted' || level === 'secret';
}

export function isInvited(meeting: AdmissionMeeting, person: AdmissionPerson): boolean {
  if (person.kind !== 'agent') return false;
  return (
    meeting.hostIds.has(person.id) ||
    meeting.inviteeIds.has(person.id) ||
    (person.unit !== '' && meeting.invitedUnits.has(person.unit))
  );
}

const refuse = (reason: RefusalReason, invited: boolean): AdmissionDecision => ({
  outcome: 'refuse',
  reason,
  invited,
});

export function decideAdmission({ meeting, person, standing, now }: AdmissionInput): AdmissionDecision {
  const invited = isInvited(meeting, person);
  const isHost = person.kind === 'agent' && meeting.hostIds.has(person.id);

  if (meeting.endedAt !== null || now.getTime() >= meeting.endsAt.getTime()) return refuse('ended', invited);
  if (now.getTime() < meeting.startsAt.getTime() - EARLY_JOIN_MS) return refuse('not_started', invited);

  if (person.kind === 'anonymous') return refuse('unauthenticated', false);
  if (person.kind === 'guest') {
    // Guests never reach restricted or secret meetings, whatever the options say.
    if (!meeting.guests || !clears('internal', meeting.classification))
      return refuse('guests_not_allowed', false);
    if (standing === 'removed' || standing === 'denied') return refuse(standing, false);
    if (meeting.locked) return refuse('locked', false);
    return standing === 'admitted'
      ? { outcome: 'admit', reason: null, invited: false }
      : { outcome: 'lobby', reason: null, invited: false };
  }

  if (!clears(person.clearance, meeting.classification)) return refuse('clearance', invited);
  if (needsStepUp(meeting.classification)) {
    const fresh =
      person.mfaAt !== null &&
      now.getTime() - person.mfaAt.getTime() <=
        Math.min(meeting.stepUpSeconds, STEP_UP_MAX_AGE_SECONDS) * 1000;
    if (!fresh) return { outcome: 'step_up', reason: null, invited };
  }

  // A host is never locked out of their own meeting, even after another host removed them.
  if (!isHost && (standing === 'removed' || standing === 'denied')) {
    if (standing === 'denied' || meeting.locked || !meeting.lobby) return refuse(standing, invited);
    return { outcome: 'lobby', reason: null, invited };
  }
  if (invited) return { outcome: 'admit', reason: null, invited };
  if (meeting.locked) return refuse('locked', false);
  if (standing === 'admitted') return { outcome: 'admit', reason: null, invited: false };
  if (!meeting.lobby) return refuse('not_invited', false);
  return { outcome: 'lobby', reason: null, invited: false };
}
