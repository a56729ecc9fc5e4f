/**
 * Meeting times as the console shows and asks for them: where a meeting stands now, and the
 * conversion between `<input type="datetime-local">` values (the reader's local time, no zone)
 * and the ISO instants of the API.
 */
import { MEETING_MAX_HOURS, type Meeting } from '@rempart/core';

export type MeetingTiming = 'upcoming' | 'ongoing' | 'ended';

type Times = Pick<Meeting, 'startsAt' | 'endsAt' | 'endedAt'>;

/** Ended (by a host, or past its end), going on now, or still to come. */
export function meetingTiming(meeting: Times, now: number): MeetingTiming {
  if (meeting.endedAt !== null || Date.parse(meeting.endsAt) <= now) return 'ended';
  return Date.parse(meeting.startsAt) <= now ? 'ongoing' : 'upcoming';
}

/** Meetings by timing: the next ones first, the most recent ended ones first. */
export function groupByTiming<M extends Times>(
  meetings: readonly M[],
  now: number,
): Record<MeetingTiming, M[]> {
  const groups: Record<MeetingTiming, M[]> = { ongoing: [], upcoming: [], ended: [] };
  for (const meeting of meetings) groups[meetingTiming(meeting, now)].push(meeting);
  const byStart = (a: M, b: M) => Date.parse(a.startsAt) - Date.parse(b.startsAt);
  groups.ongoing.sort(byStart);
  groups.upcoming.sort(byStart);
  groups.ended.sort((a, b) => byStart(b, a));
  return groups;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** A `datetime-local` value (`YYYY-MM-DDTHH:MM`) for an instant, in the local time zone. */
export function localInputValue(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The ISO instant of a `datetime-local` value read as local time; undefined when it is not one. */
export function isoFromLocalInput(value: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s);
  // Rejects 2026-02-31 and the like, which Date would roll over into March.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return undefined;
  return date.toISOString();
}

/** A sensible default: from the next quarter hour, for one hour. */
export function defaultWindow(now: Date): { start: string; end: string } {
  const start = new Date(now);
  start.setSeconds(0, 0);
  start.setMinutes(Math.ceil((start.getMinutes() + 1) / 15) * 15);
  const end = new Date(start.getTime() + 60 * 60 * 1000);
  return { start: localInputValue(start), end: localInputValue(end) };
}

export type WindowProblem = 'invalid' | 'endBeforeStart' | 'tooLong' | 'over';

/** What is wrong with a time window before the server is asked, if anything. */
export function windowProblem(
  startsAt: string | undefined,
  endsAt: string | undefined,
  now: number,
): WindowProblem | undefined {
  if (startsAt === undefined || endsAt === undefined) return 'invalid';
  const start = Date.parse(startsAt);
  const end = Date.parse(endsAt);
  if (end <= start) return 'endBeforeStart';
  if (end - start > MEETING_MAX_HOURS * 3600_000) return 'tooLong';
  if (end <= now) return 'over';
  return undefined;
}
