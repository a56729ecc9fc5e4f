import { describe, expect, it } from 'vitest';
import { afterFailure, defaultPolicies, waitSeconds, type ThrottleState } from './throttle.js';

const policy = defaultPolicies.email;
const t0 = new Date('2026-03-01T08:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

function failTimes(times: number[]): { state: ThrottleState | undefined; locked: boolean[] } {
  let state: ThrottleState | undefined;
  const locked: boolean[] = [];
  for (const s of times) {
    const r = afterFailure(policy, state, at(s));
    state = r.state;
    locked.push(r.locked);
  }
  return { state, locked };
}

describe('sign-in throttling', () => {
  it.each([
    { failures: 0, wait: 0 },
    { failures: 1, wait: 0 },
    { failures: 2, wait: 0 },
    { failures: 3, wait: 1 },
    { failures: 4, wait: 2 },
  ])('after $failures failures in a row, the next attempt waits $wait s', ({ failures, wait }) => {
    const { state } = failTimes(Array.from({ length: failures }, () => 0));
    expect(waitSeconds(policy, state, at(0))).toBe(wait);
  });

  it('locks on the fifth failure for 15 minutes, then lets the account try again', () => {
    const { state, locked } = failTimes([0, 1, 2, 4, 8]);
    expect(locked).toEqual([false, false, false, false, true]);
    expect(waitSeconds(policy, state, at(9))).toBe(15 * 60 - 1);
    expect(waitSeconds(policy, state, at(8 + 15 * 60))).toBe(0);
  });

  it('doubles the lock each time it recurs, up to a day', () => {
    let state: ThrottleState | undefined;
    const durations: number[] = [];
    let now = 0;
    for (let lock = 0; lock < 9; lock++) {
      for (let i = 0; i < policy.lockAfter; i++) {
        const r = afterFailure(policy, state, at(now));
        state = r.state;
        now += 1;
      }
      const wait = waitSeconds(policy, state, at(now));
      durations.push(wait);
      now += wait + 1;
    }
    expect(durations.slice(0, 3)).toEqual([899, 1799, 3599]);
    expect(Math.max(...durations)).toBeLessThanOrEqual(24 * 3600);
  });

  it('forgets failures older than the window', () => {
    const { state } = failTimes([0, 1, 2, 3]);
    const fresh = afterFailure(policy, state, at(policy.windowSeconds + 10));
    expect(fresh.state.failures).toBe(1);
    expect(waitSeconds(policy, state, at(policy.windowSeconds + 10))).toBe(0);
  });
});
