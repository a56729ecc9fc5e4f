/**
 * How long the server watch keeps what it stored: events for weeks (they are many, and a
 * retro-hunt over a month is what an investigation needs), hits for a year (they are few, and
 * they are the record of what was found). The live service calls `purge` periodically.
 *
 * @example
 *   const retention = new WatchRetention(repository, clock, { eventDays: 30, hitDays: 365 });
 *   const { events, hits } = await retention.purge(); // rows deleted
 */
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { WatchRepository } from './watch.repository.js';

const DAY_MS = 86_400_000;

export const WatchRetentionOptions = z.object({
  /** Days an event is kept. */
  eventDays: z.number().int().min(1).max(3650).default(30),
  /** Days a hit is kept. */
  hitDays: z.number().int().min(1).max(36500).default(365),
});
export type WatchRetentionOptions = z.input<typeof WatchRetentionOptions>;

export interface PurgeResult {
  /** Events deleted. */
  events: number;
  /** Hits deleted. */
  hits: number;
}

export class WatchRetention {
  readonly eventDays: number;
  readonly hitDays: number;

  constructor(
    private readonly repository: Pick<WatchRepository, 'purgeEventsBefore' | 'purgeHitsBefore'>,
    private readonly clock: Clock,
    options: WatchRetentionOptions = {},
  ) {
    const parsed = WatchRetentionOptions.parse(options);
    this.eventDays = parsed.eventDays;
    this.hitDays = parsed.hitDays;
  }

  /** Deletes the events and hits older than their retention, counted back from the clock's now. */
  async purge(): Promise<PurgeResult> {
    const now = this.clock.now().getTime();
    const events = await this.repository.purgeEventsBefore(new Date(now - this.eventDays * DAY_MS));
    const hits = await this.repository.purgeHitsBefore(new Date(now - this.hitDays * DAY_MS));
    return { events, hits };
  }
}
