/**
 * The signalling server's part in key agreement, in memory, for the unit tests of end-to-end
 * encryption: it relays each MLS message to the others present, the Welcome to those it adds,
 * in order, as `meeting-room.ts` does on the socket.
 */
import { MediaKeyGroup, type EpochKeys, type GroupMessage } from './group';

export const meetingId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

export class FakeMeeting {
  readonly clients = new Map<string, { group: MediaKeyGroup; keys: EpochKeys[]; failures: unknown[] }>();
  private roster: { id: string; joinedAt: string }[] = [];
  private work: Promise<void>[] = [];
  private clock = 0;
  relayed = 0;
  /** Participants whose commits are lost on the way (a dropped message). */
  readonly deaf = new Set<string>();

  /** The committer's batching delay (0: commit at once, so that `settle` sees every commit). */
  constructor(private readonly commitDelayMs = 0) {}

  join(id: string): void {
    const entry = {
      group: undefined as unknown as MediaKeyGroup,
      keys: [] as EpochKeys[],
      failures: [] as unknown[],
    };
    entry.group = new MediaKeyGroup(
      id,
      meetingId,
      {
        send: (message) => this.relay(id, message),
        keys: (keys) => entry.keys.push(keys),
        failed: (error) => entry.failures.push(error),
      },
      this.commitDelayMs,
    );
    this.clients.set(id, entry);
    this.roster.push({ id, joinedAt: new Date(1_700_000_000_000 + this.clock++ * 1000).toISOString() });
    // As on the socket: the welcome (roster) first, then the roster to everyone.
    this.work.push(entry.group.setRoster(this.roster), entry.group.start());
    for (const [other, c] of this.clients) if (other !== id) this.work.push(c.group.setRoster(this.roster));
  }

  leave(id: string): void {
    this.clients.get(id)?.group.close();
    this.clients.delete(id);
    this.roster = this.roster.filter((p) => p.id !== id);
    for (const c of this.clients.values()) this.work.push(c.group.setRoster(this.roster));
  }

  async settle(): Promise<void> {
    while (this.work.length > 0) {
      const batch = this.work;
      this.work = [];
      await Promise.all(batch);
    }
  }

  latest(id: string): EpochKeys | undefined {
    return this.clients.get(id)?.keys.at(-1);
  }

  private relay(from: string, message: GroupMessage): void {
    this.relayed++;
    for (const [id, c] of this.clients) {
      if (id === from) continue;
      if (message.type === 'e2ee.keypackage')
        this.work.push(c.group.receive({ type: 'e2ee.keypackage', from, data: message.data }));
      else if (message.welcome?.to.includes(id))
        this.work.push(c.group.receive({ type: 'e2ee.welcome', from, data: message.welcome.data }));
      else if (!this.deaf.has(id))
        this.work.push(c.group.receive({ type: 'e2ee.commit', from, data: message.data }));
    }
  }
}
