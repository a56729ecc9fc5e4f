/**
 * Counts refused join attempts per source in a sliding window. Past the limit a source is
 * refused outright (`rate_limited`) until its window drains, and the first time it crosses
 * the limit the caller raises an alert. Pure bookkeeping, in memory, with an injected clock.
 *
 * @example
 *   const limiter = new AttemptLimiter({ limit: 10, windowMs: 300_000 });
 *   limiter.record('ip:192.0.2.1', now); // → { count: 1, limited: false, crossed: false }
 */
export interface AttemptLimits {
  limit: number;
  windowMs: number;
}

export interface AttemptCount {
  count: number;
  /** The source is over the limit: refuse it without looking further. */
  limited: boolean;
  /** This very attempt crossed the limit: the moment to raise an alert, once. */
  crossed: boolean;
}

export class AttemptLimiter {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly limits: AttemptLimits) {}

  /** True when the source is over its limit right now (checked before deciding). */
  isLimited(source: string, now: Date): boolean {
    return this.live(source, now.getTime()).length >= this.limits.limit;
  }

  record(source: string, now: Date): AttemptCount {
    const t = now.getTime();
    const times = this.live(source, t);
    const before = times.length;
    times.push(t);
    this.times.set(source, times);
    this.sweep(t);
    return {
      count: times.length,
      limited: times.length > this.limits.limit,
      crossed: before < this.limits.limit && times.length >= this.limits.limit,
    };
  }

  private live(source: string, t: number): number[] {
    const from = t - this.limits.windowMs;
    return (this.times.get(source) ?? []).filter((x) => x > from);
  }

  /** Drops sources whose window has drained, so memory follows the live attackers only. */
  private sweep(t: number): void {
    if (this.times.size < 10_000) return;
    for (const [source, times] of this.times) {
      if ((times.at(-1) ?? 0) <= t - this.limits.windowMs) this.times.delete(source);
    }
  }
}
