import { describe, expect, it } from 'vitest';
import {
  defaultWindow,
  groupByTiming,
  isoFromLocalInput,
  localInputValue,
  meetingTiming,
  windowProblem,
} from './schedule';

const at = (iso: string) => Date.parse(iso);
const meeting = (id: string, startsAt: string, endsAt: string, endedAt: string | null = null) => ({
  id,
  startsAt,
  endsAt,
  endedAt,
});

describe('where a meeting stands', () => {
  const m = meeting('a', '2026-03-12T09:00:00.000Z', '2026-03-12T10:00:00.000Z');

  it('is upcoming before its start, ongoing during its window, ended after it', () => {
    expect(meetingTiming(m, at('2026-03-12T08:59:00Z'))).toBe('upcoming');
    expect(meetingTiming(m, at('2026-03-12T09:00:00Z'))).toBe('ongoing');
    expect(meetingTiming(m, at('2026-03-12T09:59:59Z'))).toBe('ongoing');
    expect(meetingTiming(m, at('2026-03-12T10:00:00Z'))).toBe('ended');
  });

  it('is ended as soon as a host ended it, even within its window', () => {
    const ended = { ...m, endedAt: '2026-03-12T09:20:00.000Z' };
    expect(meetingTiming(ended, at('2026-03-12T09:30:00Z'))).toBe('ended');
  });

  it('lists the next meetings first and the most recently ended first', () => {
    const now = at('2026-03-12T12:00:00Z');
    const groups = groupByTiming(
      [
        meeting('later', '2026-03-14T09:00:00Z', '2026-03-14T10:00:00Z'),
        meeting('old', '2026-03-01T09:00:00Z', '2026-03-01T10:00:00Z'),
        meeting('soon', '2026-03-13T09:00:00Z', '2026-03-13T10:00:00Z'),
        meeting('now', '2026-03-12T11:30:00Z', '2026-03-12T12:30:00Z'),
        meeting('recent', '2026-03-11T09:00:00Z', '2026-03-11T10:00:00Z'),
      ],
      now,
    );
    expect(groups.ongoing.map((x) => x.id)).toEqual(['now']);
    expect(groups.upcoming.map((x) => x.id)).toEqual(['soon', 'later']);
    expect(groups.ended.map((x) => x.id)).toEqual(['recent', 'old']);
  });
});

describe('local date and time inputs', () => {
  it('reads a datetime-local value as local time and gives the ISO instant', () => {
    expect(isoFromLocalInput('2026-03-12T14:05')).toBe(new Date(2026, 2, 12, 14, 5).toISOString());
    expect(isoFromLocalInput('2026-03-12T14:05:30')).toBe(new Date(2026, 2, 12, 14, 5, 30).toISOString());
  });

  it('refuses what is not a real local date and time', () => {
    expect(isoFromLocalInput('')).toBeUndefined();
    expect(isoFromLocalInput('2026-02-31T10:00')).toBeUndefined();
    expect(isoFromLocalInput('12/03/2026 14:05')).toBeUndefined();
  });

  it('writes an instant back as the same local value', () => {
    const date = new Date(2026, 10, 3, 7, 9);
    expect(localInputValue(date)).toBe('2026-11-03T07:09');
    expect(isoFromLocalInput(localInputValue(date))).toBe(date.toISOString());
  });

  it('proposes the next quarter hour, for one hour', () => {
    expect(defaultWindow(new Date(2026, 2, 12, 14, 5, 42))).toEqual({
      start: '2026-03-12T14:15',
      end: '2026-03-12T15:15',
    });
    expect(defaultWindow(new Date(2026, 2, 12, 14, 59))).toEqual({
      start: '2026-03-12T15:00',
      end: '2026-03-12T16:00',
    });
  });
});

describe('time window checks before scheduling', () => {
  const now = at('2026-03-12T08:00:00Z');

  it('accepts a window that ends after it starts, within a day, not yet over', () => {
    expect(windowProblem('2026-03-12T09:00:00.000Z', '2026-03-12T10:00:00.000Z', now)).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(windowProblem(undefined, '2026-03-12T10:00:00.000Z', now)).toBe('invalid');
    expect(windowProblem('2026-03-12T10:00:00.000Z', '2026-03-12T10:00:00.000Z', now)).toBe('endBeforeStart');
    expect(windowProblem('2026-03-12T09:00:00.000Z', '2026-03-13T09:01:00.000Z', now)).toBe('tooLong');
    expect(windowProblem('2026-03-12T06:00:00.000Z', '2026-03-12T07:00:00.000Z', now)).toBe('over');
  });
});
