/**
 * Sign-in throttling: growing delays after a few failures, then a temporary lock.
 * Keys are the typed email (whether or not an account has it, so the answers do
 * not reveal which accounts exist), the source address, and an agent's second factor.
 * Pure decisions here; the counters live in the throttles table.
 */
export interface ThrottlePolicy {
  /** Failures after which each new attempt must wait (seconds double from 1). */
  freeFailures: number;
  maxDelaySeconds: number;
  /** Failures within the window that lock the key. */
  lockAfter: number;
  lockSeconds: number;
  /** Failures older than this are forgotten. */
  windowSeconds: number;
}

export const defaultPolicies = {
  email: { freeFailures: 2, maxDelaySeconds: 30, lockAfter: 5, lockSeconds: 15 * 60, windowSeconds: 15 * 60 },
  mfa: { freeFailures: 2, maxDelaySeconds: 30, lockAfter: 5, lockSeconds: 15 * 60, windowSeconds: 15 * 60 },
  ip: { freeFailures: 10, maxDelaySeconds: 30, lockAfter: 30, lockSeconds: 15 * 60, windowSeconds: 15 * 60 },
} satisfies Record<string, ThrottlePolicy>;

export type ThrottleKind = keyof typeof defaultPolicies;

export interface ThrottleState {
  failures: number;
  firstFailureAt: Date;
  lastFailureAt: Date;
  lockedUntil: Date | null;
  locks: number;
}

/** Seconds to wait before the next attempt is even checked; 0 when it may go ahead. */
export function waitSeconds(policy: ThrottlePolicy, state: ThrottleState | undefined, now: Date): number {
  if (!state) return 0;
  if (state.lockedUntil && state.lockedUntil > now) {
    return Math.ceil((state.lockedUntil.getTime() - now.getTime()) / 1000);
  }
  if (isExpired(policy, state, now)) return 0;
  const over = state.failures - policy.freeFailures;
  if (over <= 0) return 0;
  const delay = Math.min(2 ** (over - 1), policy.maxDelaySeconds);
  const readyAt = state.lastFailureAt.getTime() + delay * 1000;
  return Math.max(0, Math.ceil((readyAt - now.getTime()) / 1000));
}

function isExpired(policy: ThrottlePolicy, state: ThrottleState, now: Date): boolean {
  return now.getTime() - state.firstFailureAt.getTime() > policy.windowSeconds * 1000;
}

/** The state after one more failure, and whether that failure locked the key. */
export function afterFailure(
  policy: ThrottlePolicy,
  state: ThrottleState | undefined,
  now: Date,
): { state: ThrottleState; locked: boolean } {
  const fresh =
    !state || isExpired(policy, state, now) || (state.lockedUntil !== null && state.lockedUntil <= now);
  const base: ThrottleState = fresh
    ? { failures: 0, firstFailureAt: now, lastFailureAt: now, lockedUntil: null, locks: state?.locks ?? 0 }
    : state;
  const failures = base.failures + 1;
  if (failures >= policy.lockAfter) {
    // Each lock in a row lasts twice as long as the last, up to a day.
    const seconds = Math.min(policy.lockSeconds * 2 ** base.locks, 24 * 3600);
    return {
      state: {
        ...base,
        failures,
        lastFailureAt: now,
        lockedUntil: new Date(now.getTime() + seconds * 1000),
        locks: base.locks + 1,
      },
      locked: true,
    };
  }
  return { state: { ...base, failures, lastFailureAt: now, lockedUntil: null }, locked: false };
}
