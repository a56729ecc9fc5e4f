/**
 * The running meetings' presences and hosts' decisions as written to the database, in the
 * order they happened: a join followed at once by a leave must not leave a row behind because
 * the two writes raced. Writes are one queue; a read waits for the writes before it. A failed write is
 * logged and costs only what it was for (a presence not restored after a restart).
 */
import type { Logger } from '../logger.js';
import type { Standing } from './admission.js';
import type { Decided, PresencesRepository, StoredPresence } from './presences.repository.js';
import type { Clock } from '../clock.js';

export class PresenceJournal {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: PresencesRepository,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  save(meetingId: string, presence: StoredPresence): void {
    const at = this.clock.now();
    this.write('save', () => this.repo.save(meetingId, presence, at));
  }

  forget(participantId: string): void {
    this.write('forget', () => this.repo.forget(participantId));
  }

  forgetMeeting(meetingId: string): void {
    this.write('forget meeting', () => this.repo.forgetMeeting(meetingId));
  }

  /** A host's decision about a person in a meeting (see `meeting_standings`). */
  standing(meetingId: string, personKey: string, standing: Decided): void {
    const at = this.clock.now();
    this.write('standing', () => this.repo.saveStanding(meetingId, personKey, standing, at));
  }

  /** The hosts' decisions in a meeting, once every write queued before this call is done. */
  async standingsOf(meetingId: string): Promise<Map<string, Standing>> {
    await this.queue;
    return this.repo.standingsOf(meetingId);
  }

  /** The presences of a meeting, once every write queued before this call is done. */
  async ofMeeting(meetingId: string): Promise<StoredPresence[]> {
    await this.queue;
    return this.repo.ofMeeting(meetingId);
  }

  /** Resolves once every queued write is done (before the database closes). */
  settled(): Promise<void> {
    return this.queue;
  }

  private write(what: string, step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch((error: unknown) => {
      this.log.warn({ err: error }, `meeting presence ${what} failed`);
    });
  }
}
