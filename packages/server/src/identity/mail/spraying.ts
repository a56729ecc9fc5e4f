/**
 * Password spraying against mail: one source trying a few passwords against many accounts stays
 * under every per-account limit, so the failures are counted per source address, with the
 * accounts they named. Pure decisions over an in-memory window; the lock itself is kept in the
 * throttles table by the service, so that every process refuses the source.
 */

export interface SprayPolicy {
  /** Distinct accounts failed from one source, within the window, that mark spraying. */
  accounts: number;
  /** Failures from one source, whatever the accounts, that lock it (guessing one account). */
  failures: number;
  windowMs: number;
  /** How long a locked source is refused, even with a right password. */
  lockMs: number;
}

export const defaultSprayPolicy: SprayPolicy = {
  accounts: 5,
  failures: 20,
  windowMs: 15 * 60_000,
  lockMs: 30 * 60_000,
};

interface SourceFailures {
  /** Each account's last failure time. */
  accounts: Map<string, number>;
  /** Failure times, oldest first. */
  times: number[];
}

export type SprayVerdict =
  | { kind: 'none'; failures: number; accounts: number }
  | { kind: 'spraying' | 'guessing'; failures: number; accounts: number; users: string[] };

/** Failures per source within a sliding window; `failure` says when a source must be locked. */
export class SprayWindow {
  private readonly sources = new Map<string, SourceFailures>();

  constructor(private readonly policy: SprayPolicy = defaultSprayPolicy) {}

  failure(source: string, user: string, now: number): SprayVerdict {
    const since = now - this.policy.windowMs;
    let entry = this.sources.get(source);
    if (!entry) {
      entry = { accounts: new Map(), times: [] };
      this.sources.set(source, entry);
    }
    forget(entry, since);
    entry.accounts.set(user, now);
    entry.times.push(now);
    const failures = entry.times.length;
    const accounts = entry.accounts.size;
    const kind =
      accounts >= this.policy.accounts ? 'spraying' : failures >= this.policy.failures ? 'guessing' : 'none';
    if (kind === 'none') return { kind, failures, accounts };
    // Once locked, the source starts a new count: its next burst is told apart.
    this.sources.delete(source);
    return { kind, failures, accounts, users: [...entry.accounts.keys()].sort() };
  }

  /** Drops sources with no failure left in the window (called now and then). */
  prune(now: number): void {
    const since = now - this.policy.windowMs;
    for (const [source, entry] of this.sources) {
      forget(entry, since);
      if (entry.times.length === 0) this.sources.delete(source);
    }
  }

  get size(): number {
    return this.sources.size;
  }
}

function forget(entry: SourceFailures, since: number): void {
  let drop = 0;
  while (drop < entry.times.length && (entry.times[drop] ?? 0) <= since) drop++;
  if (drop > 0) entry.times.splice(0, drop);
  for (const [user, at] of entry.accounts) if (at <= since) entry.accounts.delete(user);
}
